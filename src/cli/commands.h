#pragma once
// The command table. Each command lives in cmd_<name>.cpp and contributes one registration
// function that declares its options (once, as struct defaults) and wires them to run_<name>().
//
// Two programs run a table (README.md, "Commands"): `usermirror` runs the light table (the commands
// that never need libtorch) in-process and exec's `usermirror-engine` for everything else;
// `usermirror-engine` runs the full table. Both parse and translate errors through run_app().
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace um::cli {

struct Command {
  std::string name;
  std::string help;
  // Adds the subcommand's options to `sub` and returns the action to run after parsing.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

// Every command of this build (command_registry.cpp; links every component, libtorch included).
const std::vector<Command>& command_table();
// The commands `usermirror` runs in-process (light_registry.cpp; no libtorch, no HTTP).
const std::vector<Command>& light_command_table();

// The command of `table` named `name`, or nullptr.
const Command* find_command(const std::vector<Command>& table, std::string_view name);

// Builds the CLI app over `table`; `action` receives the selected command's action. Used by
// run_app and tests.
void build_app(CLI::App& app, const std::vector<Command>& table, std::function<int()>& action);

// Parses argv against `table`, runs the selected command and returns the process exit code; parse
// errors and util::Error become messages on stderr here (the CLI's error translation point).
int run_app(int argc, char** argv, const std::vector<Command>& table);

}  // namespace um::cli
