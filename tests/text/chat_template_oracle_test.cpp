// Real chat templates (Qwen3 and Llama-3.1 from ../shared/tokenizers, and the fixtures copied from
// public model repositories) rendered by us and by python3-jinja2 the way transformers does, across
// message lists and the add_generation_prompt / continue_final_message options.
#include "chat_template_oracle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "text/chat_template.h"
#include "util/error.h"

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

json msg(const char* role, const std::string& content) { return json{{"role", role}, {"content", content}}; }

const std::string kSystem = "You are a user simulator.\nAnswer as the user would.\n";
const std::string kUser =
    "# User Profile\n## User Profile\nGender: male\nAge: 25-34\n\n\n## History\nA movie viewed 3 days "
    "ago\nHeat "
    "(1995) Action|Crime|Thriller \n\n\n# Exposure List\n[A] Casino (1995) - Drama|Thriller \n\n[B] Sabrina "
    "(1995) - "
    "Comedy|Romance \n\n";

// Message lists: with and without system, multi-turn, and lists ending in an assistant turn (which
// continue_final_message leaves open).
std::vector<json> message_lists() {
  return {
      json::array({msg("user", "Hello")}),
      json::array({msg("system", kSystem), msg("user", kUser)}),
      json::array(
          {msg("user", "Hello"), msg("assistant", "Hi there"), msg("user", "Who are you? ü 😀 {{ x }}")}),
      json::array({msg("system", "sys"), msg("user", "Hello"), msg("assistant", "   I am an assistant   "),
                   msg("user", "Another question\n")}),
      json::array({msg("system", kSystem), msg("user", kUser), msg("assistant", "Thought:\nStimulus:")}),
      json::array({msg("system", kSystem), msg("user", kUser), msg("assistant", "Behavior: [")}),
      json::array({msg("user", "Hello"), msg("assistant", "Sure, here it is:  \n")}),
      json::array({msg("user", "q1"), msg("assistant", "<think>\nreasoning\n</think>\n\nanswer one"),
                   msg("user", "q2"), msg("assistant", "  partial answer")}),
  };
}

struct TemplateCase {
  std::string name;
  fs::path dir;
};

std::vector<TemplateCase> fixture_templates() {
  std::vector<TemplateCase> out;
  fs::path root = um::testing::source_dir() / "tests/fixtures/chat_templates";
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory()) out.push_back({e.path().filename().string(), e.path()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void compare_with_oracle(const std::vector<TemplateCase>& templates) {
  json cases = json::array();
  struct Ours {
    std::string label;
    bool ok;
    std::string text;
  };
  std::vector<Ours> ours;
  for (const auto& t : templates) {
    auto tpl = um::text::ChatTemplate::from_tokenizer_config(t.dir);
    size_t mi = 0;
    for (const auto& messages : message_lists()) {
      for (int mode = 0; mode < 3; ++mode) {
        bool add_gen = mode == 1;
        bool cont = mode == 2;
        if (cont && messages.back()["role"] != "assistant") continue;
        json c = json::object();
        c["template"] = tpl.source();
        c["messages"] = messages;
        c["add_generation_prompt"] = add_gen;
        c["continue_final_message"] = cont;
        c["vars"] = tpl.special_tokens();
        cases.push_back(c);
        Ours o;
        o.label = t.name + " messages#" + std::to_string(mi) + (add_gen ? " add_generation_prompt" : "") +
                  (cont ? " continue_final_message" : "");
        try {
          o.text = tpl.render(messages, {.add_generation_prompt = add_gen, .continue_final_message = cont});
          o.ok = true;
        } catch (const um::util::Error& e) {
          o.text = e.what();
          o.ok = false;
        }
        ours.push_back(std::move(o));
      }
      ++mi;
    }
  }
  UM_REQUIRE_ORACLE(expected, cases);
  ASSERT_EQ(expected.size(), ours.size());
  size_t rendered = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE(ours[i].label);
    EXPECT_EQ(ours[i].ok, expected[i].ok) << "ours: " << ours[i].text << "\njinja2: " << expected[i].text;
    if (ours[i].ok && expected[i].ok) {
      EXPECT_EQ(ours[i].text, expected[i].text);
      ++rendered;
    }
  }
  // Most cases must render (errors are expected only where a template rejects a message list).
  EXPECT_GT(rendered, ours.size() / 2);
}

TEST(ChatTemplateOracle, SharedQwen3AndLlama31MatchJinja2) {
  UM_REQUIRE_SHARED(qwen3, "tokenizers/qwen3");
  UM_REQUIRE_SHARED(llama, "tokenizers/llama3_1");
  compare_with_oracle({{"qwen3", qwen3}, {"llama3_1", llama}});
}

TEST(ChatTemplateOracle, PublicModelTemplatesMatchJinja2) {
  auto templates = fixture_templates();
  ASSERT_GE(templates.size(), 5u);
  compare_with_oracle(templates);
}

// Tool schemas and tool-call messages exercise tojson (indent, key order, unicode), `in` on dicts,
// mapping/iterable tests and the tool branches of Qwen3 and Llama-3.1.
TEST(ChatTemplateOracle, ToolsAndToolCallsMatchJinja2) {
  UM_REQUIRE_SHARED(qwen3, "tokenizers/qwen3");
  fs::path llama = um::testing::source_dir() / "tests/fixtures/chat_templates/llama-3.1-70b-instruct";
  json tools =
      json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Météo",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
      "required": ["city"]}}}])");
  json call = json::parse(R"({"role": "assistant", "content": "", "tool_calls": [{"type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]})");
  std::vector<json> lists = {
      json::array({msg("system", "sys"), msg("user", "Weather in Paris?")}),
      json::array({msg("user", "Weather in Paris?"), call,
                   json{{"role", "tool"}, {"content", "{\"temp\": 21.5}"}}, msg("user", "thanks")}),
  };
  json cases = json::array();
  std::vector<std::pair<bool, std::string>> ours;
  for (const fs::path& dir : {qwen3, llama}) {
    auto tpl = um::text::ChatTemplate::from_tokenizer_config(dir);
    for (const auto& messages : lists) {
      for (bool add_gen : {false, true}) {
        json vars = tpl.special_tokens();
        vars["tools"] = tools;
        cases.push_back(json{{"template", tpl.source()},
                             {"messages", messages},
                             {"add_generation_prompt", add_gen},
                             {"continue_final_message", false},
                             {"vars", vars}});
        um::text::ChatRenderOptions opts;
        opts.add_generation_prompt = add_gen;
        opts.tools = tools;
        try {
          ours.emplace_back(true, tpl.render(messages, opts));
        } catch (const um::util::Error& e) {
          ours.emplace_back(false, e.what());
        }
      }
    }
  }
  UM_REQUIRE_ORACLE(expected, cases);
  ASSERT_EQ(expected.size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    ASSERT_TRUE(expected[i].ok) << expected[i].text;
    ASSERT_TRUE(ours[i].first) << ours[i].second;
    EXPECT_EQ(ours[i].second, expected[i].text);
  }
}

TEST(ChatTemplateOracle, Qwen3EnableThinkingVariable) {
  UM_REQUIRE_SHARED(qwen3, "tokenizers/qwen3");
  auto tpl = um::text::ChatTemplate::from_tokenizer_config(qwen3);
  json messages = json::array({msg("user", "Hi")});
  um::text::ChatRenderOptions opts;
  opts.add_generation_prompt = true;
  opts.extra = json{{"enable_thinking", false}};
  EXPECT_EQ(tpl.render(messages, opts),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

}  // namespace
