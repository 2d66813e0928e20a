#pragma once
// Hugging Face chat templates: what transformers' apply_chat_template(tokenize=False) produces.
//
//   auto tpl = um::text::ChatTemplate::from_tokenizer_config("models/Qwen3-0.6B");
//   std::string prompt = tpl.render({{"system", sys}, {"user", msg}, {"assistant", "Behavior: ["}},
//                                   {.continue_final_message = true});
//
// The template comes from <dir>/chat_template.jinja if present (newer transformers save it there),
// else from the `chat_template` field of <dir>/tokenizer_config.json: a string, or a list of
// {"name", "template"} objects from which `template_name` (default "default", or "tool_use" when
// tools are given and such a template exists) is chosen. Special tokens (bos_token, eos_token,
// unk_token, sep_token, pad_token, cls_token, mask_token, additional_special_tokens) are read from
// tokenizer_config.json (falling back to special_tokens_map.json) and passed as variables when set,
// like transformers' special_tokens_map; `tools` and `documents` are passed as None unless given.
//
// Errors: util::Error naming the missing file or field, or the template line/column (jinja.h).
// Thread safety: immutable after construction; render() is safe to call concurrently.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/chat_message.h"
#include "text/jinja.h"

namespace um::text {

struct ChatRenderOptions {
  // Append the template's assistant header (its `add_generation_prompt` branch).
  bool add_generation_prompt = false;
  // Leave the final message open: render the whole chat, then cut right after the final message's
  // content, exactly as transformers does. Incompatible with add_generation_prompt.
  bool continue_final_message = false;
  // Extra template variables (e.g. {"enable_thinking": false}); they override special tokens.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  // Tool schemas (a JSON array) or null.
  nlohmann::ordered_json tools = nullptr;
};

class ChatTemplate {
 public:
  // Loads the template and special tokens of a Hugging Face model/tokenizer directory.
  static ChatTemplate from_tokenizer_config(const std::filesystem::path& dir,
                                            const std::string& template_name = "");

  // `special_tokens`: a JSON object of variables such as {"bos_token": "<s>"}.
  explicit ChatTemplate(std::string source,
                        nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object(),
                        std::string origin = "<chat_template>");

  // `messages`: a JSON array of message objects ({"role", "content", ...any other fields}).
  std::string render(const nlohmann::ordered_json& messages, const ChatRenderOptions& opts = {}) const;
  std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& opts = {}) const;

  const std::string& source() const { return source_; }
  const nlohmann::ordered_json& special_tokens() const { return special_tokens_; }

 private:
  std::string source_;
  nlohmann::ordered_json special_tokens_;
  JinjaTemplate template_;
  // A list-form chat_template's "tool_use" variant, chosen when tools are given (may be empty).
  std::shared_ptr<const ChatTemplate> tool_use_;
  friend class ChatTemplateLoader;
};

// transformers' continue_final_message cut: finds the last occurrence of final_content.strip() in
// `rendered` and keeps everything up to the end of the final content (its trailing whitespace too,
// when the template preserved it). Throws util::Error if the content does not appear.
std::string cut_after_final_message(const std::string& rendered, const std::string& final_content);

// JSON form of messages, for callers holding ChatMessage lists.
nlohmann::ordered_json to_json(const std::vector<ChatMessage>& messages);

}  // namespace um::text
