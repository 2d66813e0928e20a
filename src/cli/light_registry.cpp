// The commands `usermirror` runs in-process. Only torch-free, backend-free components may be reached
// from here: the light binary is linked --as-needed, and tests/cli/light_binary_test.cpp fails when
// its dynamic dependencies include libtorch.
#include "cli/command_registry.h"

namespace um::cli {

std::vector<Command> light_commands() {
  std::vector<Command> cmds;
#ifdef UM_HAVE_DATA
  cmds.push_back(prepare_command());
#endif
#ifdef UM_HAVE_SCENE
  cmds.push_back(scenes_command());
#endif
#ifdef UM_HAVE_TEXT
  cmds.push_back(tokenize_command());
  cmds.push_back(render_chat_command());
  cmds.push_back(prompts_command());
#endif
#ifdef UM_HAVE_DISTIL
  cmds.push_back(distil_command());
#endif
  return cmds;
}

const std::vector<Command>& light_command_table() {
  static const std::vector<Command> table = light_commands();
  return table;
}

}  // namespace um::cli
