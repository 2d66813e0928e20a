#include "text/prompt.h"

#include "text/detail/jinja_value.h"
#include "util/error.h"

namespace um::text {

char option_letter(size_t i) {
  if (i >= 26) throw util::Error("option index " + std::to_string(i) + " has no letter (at most 26 options)");
  return static_cast<char>('A' + i);
}

size_t option_index(char letter) {
  if (letter < 'A' || letter > 'Z') throw util::Error(std::string("not an option letter: '") + letter + "'");
  return static_cast<size_t>(letter - 'A');
}

std::string lettered_action_list(const std::vector<std::string>& action_list) {
  std::string out;
  for (size_t i = 0; i < action_list.size(); ++i) {
    if (i) out += '\n';
    out += '[';
    out += option_letter(i);
    out += "] ";
    out += action_list[i];
  }
  return out;
}

std::string user_message_head(const SceneText& scene) {
  std::string out;
  out.reserve(scene.profile.size() + scene.history.size() + 64);
  out += "# User Profile\n";
  out += scene.profile;
  out += "\n\n## History\n";
  out += scene.history;
  out += "\n\n# Exposure List\n";
  return out;
}

std::string user_message(const SceneText& scene) {
  std::string out = user_message_head(scene);
  out += lettered_action_list(scene.action_list);
  out += '\n';
  return out;
}

std::vector<ChatMessage> scene_messages(const SceneText& scene, std::string_view system_prompt,
                                        std::optional<std::string_view> assistant_prefix) {
  std::vector<ChatMessage> msgs;
  msgs.push_back({"system", std::string(system_prompt)});
  msgs.push_back({"user", user_message(scene)});
  if (assistant_prefix) msgs.push_back({"assistant", std::string(*assistant_prefix)});
  return msgs;
}

std::string rationale_of(std::string_view generated) {
  size_t cut = generated.find("Behavior:");
  std::string_view head = cut == std::string_view::npos ? generated : generated.substr(0, cut);
  return detail::py_strip(head, detail::Value(), true, true);
}

std::string reclose_for_scoring(std::string_view generated) {
  return rationale_of(generated) + "\n" + std::string(kBehaviorPrefix);
}

std::string training_target(std::string_view rationale, char letter) {
  option_index(letter);
  return rationale_of(rationale) + "\n" + std::string(kBehaviorPrefix) + letter + "]";
}

}  // namespace um::text
