// usermirror: parses arguments and dispatches to the command table. Errors are translated to user
// messages here (one of the three places, ARCHITECTURE.md).
#include <cstdio>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  CLI::App app{"usermirror — preference-aligned LLM user simulators for recommender systems"};
  std::function<int()> action;
  um::cli::build_app(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const um::util::Error& e) {
    std::fprintf(stderr, "usermirror: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "usermirror: error: %s\n", e.what());
    return 1;
  }
}
