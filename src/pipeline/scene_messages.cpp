#include "pipeline/scene_messages.h"

#include <filesystem>

#include "pipeline/reference_fields.h"
#include "util/line_reader.h"
#include "util/utf8.h"

namespace um::pipeline {

std::string lettered_action_list(const SceneText& text) {
  std::string out;
  for (size_t i = 0; i < text.action_list.size(); ++i) {
    if (i) out += '\n';
    out += '[';
    out += option_letter(static_cast<int>(i));
    out += "] ";
    out += text.action_list[i];
  }
  return out;
}

std::string user_message(const SceneText& text) {
  std::string out;
  out.reserve(text.profile.size() + text.history.size() + 64);
  out += "# User Profile\n";
  out += text.profile;
  out += "\n\n## History\n";
  out += text.history;
  out += "\n\n# Exposure List\n";
  out += lettered_action_list(text);
  out += '\n';
  return out;
}

std::string assistant_target(std::string_view rationale, int option) {
  std::string out(cut_rationale(rationale));
  out += "\nBehavior: [";
  out += option_letter(option);
  out += ']';
  return out;
}

void write_messages(util::JsonWriter& w, std::string_view system, std::string_view user,
                    std::string_view assistant) {
  w.begin_array();
  const std::pair<const char*, std::string_view> msgs[] = {
      {fields::kSystem, system}, {fields::kUser, user}, {fields::kAssistant, assistant}};
  for (const auto& [role, content] : msgs) {
    w.begin_object();
    w.key(fields::kRole);
    w.value(role);
    w.key(fields::kContent);
    w.value(content);
    w.end_object();
  }
  w.end_array();
}

std::string load_system_prompt(const std::string& path) {
  if (path.empty()) throw util::Error("a system prompt file is required (--system-prompt FILE)");
  if (!std::filesystem::is_regular_file(path))
    throw util::Error("system prompt file not found", {.file = path});
  std::string s = util::read_file(path);
  if (s.empty()) throw util::Error("system prompt file is empty", {.file = path});
  size_t bad = 0;
  if (!util::is_valid_utf8(s, &bad))
    throw util::Error("system prompt is not valid UTF-8 at byte " + std::to_string(bad), {.file = path});
  return s;
}

}  // namespace um::pipeline
