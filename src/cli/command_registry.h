#pragma once
// One row per command: adding a command = one cmd_<name>.cpp + one line in command_registry.cpp (and, for a
// command that needs neither libtorch nor a backend, one line in light_registry.cpp and its file in
// the light list of CMakeLists.txt).
#include <vector>

#include "cli/commands.h"

namespace um::cli {

std::vector<Command> all_commands();
// The subset of all_commands() that `usermirror` runs without loading the engine.
std::vector<Command> light_commands();

// Registration functions, one per cmd_<name>.cpp.
Command prepare_command();
Command scenes_command();
Command serve_command();
Command tokenize_command();
Command render_chat_command();
Command prompts_command();
Command model_command();
Command logits_command();
Command train_command();
Command export_command();
Command distil_command();
Command decide_command();
Command score_command();
Command evaluate_command();
Command run_command();
Command arena_command();

}  // namespace um::cli
