#pragma once
// Simulator prompts: the messages of a simulation scene and the "Behavior: [X]" convention
// (docs/method.md §5), byte-exact with the reference implementation.
//
//   um::text::SceneText scene{profile, {"Casino (1995) - Drama|Thriller \n", ...}, history};
//   auto msgs = um::text::scene_messages(scene, system_prompt, um::text::kEvalReasoningPrefix);
//   std::string prompt = chat_template.render(msgs, {.continue_final_message = true});
//
// System prompt texts are data files (prompts/, see prompt_store.h), not code.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat_template.h"

namespace um::text {

// A scene's `text` field (§3.5): exposure strings un-lettered, in exposure order.
struct SceneText {
  std::string profile;
  std::vector<std::string> action_list;
  std::string history;
};

// Assistant prefixes (§5.3).
inline constexpr std::string_view kThoughtPrefix = "Thought:";                   // texts_to_messages default
inline constexpr std::string_view kEvalReasoningPrefix = "Thought:\nStimulus:";  // evaluation, default mode
inline constexpr std::string_view kBehaviorPrefix = "Behavior: [";               // direct mode / scoring

// Option i <-> 'A' + i. Throws util::Error for i >= 26.
char option_letter(size_t i);
// Index of an option letter ('A' -> 0); throws util::Error for anything but 'A'..'Z'.
size_t option_index(char letter);

// "[A] " + action_list[0] + "\n" + "[B] " + ... (convert_action_list).
std::string lettered_action_list(const std::vector<std::string>& action_list);

// "# User Profile\n{profile}\n\n## History\n{history}\n\n# Exposure List\n{action_list}\n".
std::string user_message(const SceneText& scene);
// The part of user_message before the exposure list ("# User Profile\n...# Exposure List\n"): what
// every page shown to one user at one time has in common.
std::string user_message_head(const SceneText& scene);

// [system, user] plus, when given, an open assistant turn holding the prefix (texts_to_messages).
std::vector<ChatMessage> scene_messages(const SceneText& scene, std::string_view system_prompt,
                                        std::optional<std::string_view> assistant_prefix = std::nullopt);

// The rationale of a generated decision: text before the first "Behavior:", stripped (Python
// str.strip()); the whole text stripped when there is no "Behavior:".
std::string rationale_of(std::string_view generated);
// Scoring form: rationale_of(generated) + "\nBehavior: [" (the turn is left open).
std::string reclose_for_scoring(std::string_view generated);
// Training target: rationale_of(rationale) + "\nBehavior: [" + letter + "]" (no trailing newline).
std::string training_target(std::string_view rationale, char letter);

}  // namespace um::text
