#pragma once
// Chat messages built from a scene (method doc §5.1, §5.3, §8.7): the user message template, the
// lettered exposure list and the training target "<rationale>\nBehavior: [X]".
//
// The system prompt text is not shipped with usermirror (the reference's default prompt must be
// recovered from the released data, §5.2), so callers pass it in, e.g. from a file.
#include <string>
#include <string_view>

#include "pipeline/reference_io.h"
#include "util/json_writer.h"

namespace um::pipeline {

// "[A] <s0>\n[B] <s1>..." — each exposure string prefixed with "[<letter>] " and joined with "\n".
std::string lettered_action_list(const SceneText& text);
// "# User Profile\n{profile}\n\n## History\n{history}\n\n# Exposure List\n{action_list}\n".
std::string user_message(const SceneText& text);
// cut_rationale(rationale) + "\nBehavior: [" + letter + "]" (no trailing newline).
std::string assistant_target(std::string_view rationale, int option);

// Writes [{"role":"system",...},{"role":"user",...},{"role":"assistant",...}].
void write_messages(util::JsonWriter& w, std::string_view system, std::string_view user,
                    std::string_view assistant);

// Reads a system prompt file verbatim (UTF-8, no trimming). Throws util::Error if unreadable/empty.
std::string load_system_prompt(const std::string& path);

}  // namespace um::pipeline
