// Loading templates from model directories, special tokens, and transformers' continue_final_message cut.
#include <gtest/gtest.h>

#include <fstream>

#include "common/shared_data.h"
#include "text/chat_template.h"
#include "util/error.h"

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const um::util::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ChatTemplateLoader, MissingFileOrFieldIsAClearError) {
  auto dir = um::testing::temp_dir("ct-missing");
  std::string e1 = error_of([&] { um::text::ChatTemplate::from_tokenizer_config(dir); });
  EXPECT_NE(e1.find("tokenizer_config.json"), std::string::npos) << e1;
  EXPECT_NE(e1.find("chat_template.jinja"), std::string::npos) << e1;
  write(dir / "tokenizer_config.json", R"({"eos_token": "</s>"})");
  std::string e2 = error_of([&] { um::text::ChatTemplate::from_tokenizer_config(dir); });
  EXPECT_NE(e2.find("tokenizer_config.json"), std::string::npos) << e2;
  EXPECT_NE(e2.find("'chat_template'"), std::string::npos) << e2;
}

TEST(ChatTemplateLoader, ListOfNamedTemplatesAndJinjaFile) {
  auto dir = um::testing::temp_dir("ct-list");
  write(dir / "tokenizer_config.json", R"({
    "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null,
    "chat_template": [{"name": "default", "template": "D{{ bos_token }}{{ pad_token is defined }}"},
                      {"name": "tool_use", "template": "T{{ tools | length if tools is not none else 'none' }}"}]})");
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(dir);
  EXPECT_EQ(tpl.render(json::array()), "D<s>False");
  um::text::ChatRenderOptions with_tools;
  with_tools.tools = json::array({json{{"name", "f"}}});
  EXPECT_EQ(tpl.render(json::array(), with_tools), "T1");
  EXPECT_EQ(um::text::ChatTemplate::from_tokenizer_config(dir, "tool_use").render(json::array()), "Tnone");
  EXPECT_THROW(um::text::ChatTemplate::from_tokenizer_config(dir, "nope"), um::util::Error);
}

TEST(ChatTemplateLoader, ChatTemplateJinjaFileTakesPrecedence) {
  auto dir = um::testing::temp_dir("ct-jinja");
  write(dir / "tokenizer_config.json", R"({"eos_token": "</s>", "chat_template": "from-config"})");
  write(dir / "chat_template.jinja", "from-file {{ eos_token }}\n");
  EXPECT_EQ(um::text::ChatTemplate::from_tokenizer_config(dir).render(json::array()), "from-file </s>");
}

TEST(ChatTemplateLoader, ContinueFinalMessageCutsLikeTransformers) {
  using um::text::cut_after_final_message;
  // The content appears verbatim: keep its trailing whitespace.
  EXPECT_EQ(cut_after_final_message("<a>Thought: x  </a>\n", "Thought: x  "), "<a>Thought: x  ");
  // The template trimmed the content: cut after the stripped content.
  EXPECT_EQ(cut_after_final_message("<a>Thought: x</a>\n", "Thought: x  "), "<a>Thought: x");
  // Leading whitespace in the content: transformers' equality check fails, so it cuts at strip().
  EXPECT_EQ(cut_after_final_message("<a>  Hi  </a>", "  Hi  "), "<a>  Hi");
  // The last occurrence wins.
  EXPECT_EQ(cut_after_final_message("Hi<x>Hi</x>", "Hi"), "Hi<x>Hi");
  // Multi-byte content: slicing is by code points in Python, by bytes here; results agree.
  EXPECT_EQ(cut_after_final_message("<a>é  ü</a>", "é  "), "<a>é  ");
  EXPECT_EQ(cut_after_final_message("[é ]é", "é "), "[é ]é");
  EXPECT_THROW(cut_after_final_message("nothing here", "absent"), um::util::Error);

  um::text::ChatTemplate tpl(
      "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n{% endfor %}");
  std::vector<um::text::ChatMessage> messages = {{"user", "u"}, {"assistant", "Behavior: ["}};
  EXPECT_EQ(tpl.render(messages, {.continue_final_message = true}), "<user>u</user>\n<assistant>Behavior: [");
  EXPECT_THROW(tpl.render(messages, {.add_generation_prompt = true, .continue_final_message = true}),
               um::util::Error);
}

}  // namespace
