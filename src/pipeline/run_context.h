#pragma once
// What the stages of one `usermirror run` share, resolved once before the first stage: the prompt
// texts, the backend spec of every role (a tiny random model for roles left empty, through
// RunHooks::tiny_model), the eval length filter's tokenizer, the simulator evaluate and the arena use,
// and the backends, each created on first use and kept for the rest of the run.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "pipeline/run_config.h"
#include "pipeline/runner.h"
#include "util/progress.h"

namespace um::pipeline {

class RunContext {
 public:
  // Creates WORK, writes WORK/prompts/<system_prompt>.txt (distil reads it), creates the tiny model
  // when a role has no backend. Throws util::Error when a role has no backend and no tiny-model hook,
  // when the eval length filter has no tokenizer, or when [train] / [arena] is enabled without its hook
  // (before any stage runs).
  RunContext(const RunConfig& config, const RunHooks& hooks, util::Summary& summary);
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const RunConfig& config;
  const RunHooks& hooks;
  util::Summary& summary;
  bool reference = false;                    // config.compat == reference
  std::string system_prompt, direct_prompt;  // texts
  std::filesystem::path prompt_file;         // WORK/prompts/<system_prompt>.txt
  std::string teacher, student, predictor;   // backend specs
  // The student's tokenizer (docs/method.md §3.6), or config.length_tokenizer; empty when unused.
  std::filesystem::path length_tokenizer;
  // [train] enabled: where the train hook puts the trained model (RunHooks::trained_model_dir).
  std::filesystem::path trained_model;
  // The simulator evaluate (and by default the arena) runs: the trained model, else the student.
  std::string simulator;

  // The backend for `spec`, created with backend::make_backend on first use.
  backend::Backend& backend(const std::string& spec);

 private:
  std::map<std::string, std::unique_ptr<backend::Backend>> backends_;
};

}  // namespace um::pipeline
