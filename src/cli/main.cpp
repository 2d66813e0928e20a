// usermirror: the light front end. The torch-free commands (light_registry.cpp) run here; every
// other argument list, top-level --help included, is handed unchanged to usermirror-engine, so this
// process never loads libtorch (~0.3 s and ~165 MB per start).
#include "cli/commands.h"
#include "cli/engine_exec.h"

int main(int argc, char** argv) {
  const auto& light = um::cli::light_command_table();
  if (argc > 1 && um::cli::find_command(light, argv[1])) return um::cli::run_app(argc, argv, light);
  return um::cli::exec_engine(argv);
}
