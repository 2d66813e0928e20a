#include "distil/scene_messages.h"

#include "text/prompt_store.h"
#include "util/line_reader.h"
#include "util/utf8.h"

namespace um::distil {

std::string assistant_target(std::string_view rationale, int option) {
  return text::training_target(rationale, option_letter(option));
}

std::string load_system_prompt(const std::string& spec,
                               const std::optional<std::filesystem::path>& prompts_dir) {
  std::string s;
  // A file, or a stream (`-`, a FIFO, bash's <(...)); otherwise a prompt name.
  if (!spec.empty() && (std::filesystem::is_regular_file(spec) || util::is_stream_input(spec))) {
    s = util::read_file(spec);
    size_t bad = 0;
    if (!util::is_valid_utf8(s, &bad))
      throw util::Error("system prompt is not valid UTF-8 at byte " + std::to_string(bad), {.file = spec});
  } else {
    s = text::load_prompt(spec.empty() ? text::kDefaultReasoningPrompt : std::string_view(spec), prompts_dir);
  }
  if (s.empty()) throw util::Error("system prompt is empty", {.file = spec});
  return s;
}

}  // namespace um::distil
