#pragma once
// Chat messages built from a scene (docs/method.md §5.1, §5.3, §8.7), over text/prompt.h (the one
// implementation of the user-message template and the "Behavior: [X]" convention).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "distil/reference_io.h"
#include "text/prompt.h"

namespace um::distil {

// "# User Profile\n{profile}\n\n## History\n{history}\n\n# Exposure List\n{lettered options}\n".
using text::user_message;
// cut_rationale(rationale) + "\nBehavior: [" + letter + "]" (no trailing newline).
std::string assistant_target(std::string_view rationale, int option);

// The system prompt of training messages: `spec` is a file path when such a file exists, otherwise
// a prompt name looked up by text::load_prompt (prompts/ search order); empty = reasoning-v1.
// Throws util::Error if it cannot be found or is empty.
std::string load_system_prompt(const std::string& spec,
                               const std::optional<std::filesystem::path>& prompts_dir = std::nullopt);

}  // namespace um::distil
