#include "cli/commands.h"

#include "cli/registry.h"

namespace um::cli {

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = all_commands();
  return table;
}

void build_app(CLI::App& app, std::function<int()>& action) {
  app.require_subcommand(1);
  app.set_version_flag("--version", "usermirror 0.1.0");
  for (const auto& cmd : command_table()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    auto run = cmd.setup(*sub);
    sub->callback([&action, run] { action = run; });
  }
}

}  // namespace um::cli
