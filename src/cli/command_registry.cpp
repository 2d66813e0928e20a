#include "cli/command_registry.h"

namespace um::cli {

std::vector<Command> all_commands() {
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
#ifdef UM_HAVE_MODEL
  cmds.push_back(model_command());
  cmds.push_back(logits_command());
#endif
#ifdef UM_HAVE_TRAIN
  cmds.push_back(train_command());
#endif
#if defined(UM_HAVE_TRAIN) || defined(UM_HAVE_RECOMMEND)
  cmds.push_back(export_command());
#endif
#ifdef UM_HAVE_PIPELINE
  cmds.push_back(decide_command());
  cmds.push_back(score_command());
  cmds.push_back(distil_command());
  cmds.push_back(evaluate_command());
  cmds.push_back(run_command());
#endif
#ifdef UM_HAVE_SERVE
  cmds.push_back(serve_command());
#endif
#ifdef UM_HAVE_ARENA
  cmds.push_back(arena_command());
#endif
  return cmds;
}

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = all_commands();
  return table;
}

}  // namespace um::cli
