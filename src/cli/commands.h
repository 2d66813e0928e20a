#pragma once
// The command table. Each command lives in cmd_<name>.cpp and contributes one registration
// function that declares its options (once, as struct defaults) and wires them to run_<name>().
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace um::cli {

struct Command {
  std::string name;
  std::string help;
  // Adds the subcommand's options to `sub` and returns the action to run after parsing.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

const std::vector<Command>& command_table();

// Builds the full CLI app; `action` receives the selected command's action. Used by main and tests.
void build_app(CLI::App& app, std::function<int()>& action);

}  // namespace um::cli
