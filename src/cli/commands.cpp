#include "cli/commands.h"

#include <cstdio>

#include "util/error.h"

namespace um::cli {

const Command* find_command(const std::vector<Command>& table, std::string_view name) {
  for (const auto& cmd : table) {
    if (cmd.name == name) return &cmd;
  }
  return nullptr;
}

void build_app(CLI::App& app, const std::vector<Command>& table, std::function<int()>& action) {
  app.require_subcommand(1);
  app.set_version_flag("--version", "usermirror 0.1.0");
  for (const auto& cmd : table) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.help);
    auto run = cmd.setup(*sub);
    sub->callback([&action, run] { action = run; });
  }
}

int run_app(int argc, char** argv, const std::vector<Command>& table) {
  CLI::App app{"usermirror — preference-aligned LLM user simulators for recommender systems"};
  std::function<int()> action;
  build_app(app, table, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const util::Error& e) {
    std::fprintf(stderr, "usermirror: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "usermirror: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace um::cli
