// `usermirror render-chat --tokenizer DIR --messages FILE|- [--add-generation-prompt]
//  [--continue-final-message] [--template NAME] [--vars JSON]`
// Prints the rendered prompt exactly as transformers' apply_chat_template(tokenize=False) returns it,
// with no added newline.
#ifdef UM_HAVE_TEXT
#include <iostream>

#include "cli/command_registry.h"
#include "text/chat_template.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::cli {

struct RenderChatOptions {
  std::string tokenizer_dir;
  std::string messages_file;
  bool add_generation_prompt = false;
  bool continue_final_message = false;
  std::string template_name;
  std::string vars_json;
};

int run_render_chat(const RenderChatOptions& o, std::ostream& out) {
  using json = nlohmann::ordered_json;
  auto tpl = text::ChatTemplate::from_tokenizer_config(o.tokenizer_dir, o.template_name);
  json messages;
  try {
    messages = json::parse(util::read_file(o.messages_file));
  } catch (const json::parse_error& e) {
    throw util::Error(std::string("invalid JSON: ") + e.what(), {.file = o.messages_file});
  }
  if (!messages.is_array()) throw util::Error("expected a JSON array of messages", {.file = o.messages_file});
  text::ChatRenderOptions opts;
  opts.add_generation_prompt = o.add_generation_prompt;
  opts.continue_final_message = o.continue_final_message;
  if (!o.vars_json.empty()) {
    try {
      opts.extra = json::parse(o.vars_json);
    } catch (const json::parse_error& e) {
      throw util::Error(std::string("--vars is not valid JSON: ") + e.what());
    }
    if (!opts.extra.is_object()) throw util::Error("--vars must be a JSON object");
  }
  out << tpl.render(messages, opts);
  out.flush();
  return 0;
}

Command render_chat_command() {
  return {"render-chat", "Render a chat with a model's Hugging Face chat template (prints it exactly)",
          [](CLI::App& app) {
            auto o = std::make_shared<RenderChatOptions>();
            app.add_option("--tokenizer", o->tokenizer_dir,
                           "Model/tokenizer directory (tokenizer_config.json or chat_template.jinja)")
                ->required();
            app.add_option("--messages", o->messages_file,
                           "JSON file holding an array of {role, content} ('-' = standard input)")
                ->required();
            app.add_flag("--add-generation-prompt", o->add_generation_prompt,
                         "Append the assistant header the template emits for add_generation_prompt");
            app.add_flag("--continue-final-message", o->continue_final_message,
                         "Leave the final message open (cut right after its content, as transformers does)");
            app.add_option(
                "--template", o->template_name,
                "Name of the template when tokenizer_config.json holds several (default: 'default')");
            app.add_option("--vars", o->vars_json,
                           "Extra template variables as a JSON object, e.g. "
                           "'{\"enable_thinking\": false}'");
            return [o] { return run_render_chat(*o, std::cout); };
          }};
}

}  // namespace um::cli
#endif  // UM_HAVE_TEXT
