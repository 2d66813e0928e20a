#pragma once
// `usermirror run CONFIG.toml`: prepare → scenes → decide → score → distil → (train) → evaluate,
// skipping every stage whose outputs are complete and valid (stage_manifest.h), and restartable
// anywhere: the LLM stages resume from their request stores, the others are atomic.
//
// Components the pipeline may not depend on (model for the tiny default model, train) come in as
// hooks from the CLI, which wires everything.
#include <functional>
#include <string>

#include "pipeline/run_config.h"
#include "util/progress.h"

namespace um::pipeline {

struct RunHooks {
  // Creates (if needed) a tiny random model for roles with no backend configured; returns its
  // backend spec ("local:DIR"). Unset = such a configuration is an error.
  std::function<std::string(const RunConfig&)> tiny_model;
  // Fine-tunes the student on the distilled files (SFT then DPO) and returns the trained model's
  // backend spec. Called only when [train] enabled, inside the "train" stage.
  std::function<std::string(const RunConfig&, const std::filesystem::path& sft_file,
                            const std::filesystem::path& pref_file, const std::string& student_spec)>
      train;
  // Where `train` puts the final model (the stage's output), so a complete stage can be skipped.
  std::function<std::filesystem::path(const RunConfig&)> trained_model_dir;
  // Runs one arena protocol (the arena component sits above the pipeline) with `simulator` as the
  // backend spec; returns the report.json it wrote. Called inside the "arena/<protocol>" stages.
  std::function<std::filesystem::path(const RunConfig&, const std::string& protocol,
                                      const std::string& simulator, util::Summary& summary)>
      arena;
};

struct RunReport {
  int stages_run = 0;
  int stages_skipped = 0;
  std::vector<std::string> log;  // one line per stage: "<stage>: ran|skipped (...)"
};

RunReport run_pipeline(const RunConfig& config, const RunHooks& hooks, util::Summary& summary);

}  // namespace um::pipeline
