#pragma once
// The stages of `usermirror run`, one builder per stage kind (docs/method.md §1.2 for the files they
// read and write). Each returns a Stage (stage.h) whose fingerprint holds exactly the options and
// input files its outputs depend on; run_stages() lists a configuration's stages in run order:
//   prepare/<DS>, scenes/<DS>/eval, scenes/<DS>/train        (per dataset)   data_stages.cpp
//   decide/<DS>/<variant>, score/<DS>/<variant>             (strong, weak)  llm_stage_builders.cpp
//   distil, train ([train] enabled)                                         distil_train_stages.cpp
//   evaluate/<mode> ([evaluate] enabled), arena/<protocol> ([arena] enabled) llm_stage_builders.cpp
// The stages' `run` and `reset` refer to `ctx`, which must outlive them.
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/run_config.h"
#include "pipeline/run_context.h"
#include "pipeline/stage.h"

namespace um::pipeline {

// WORK/raws/<DS>_{user,item,interaction}.jsonl: prepare's outputs, the scenes' inputs.
std::vector<std::filesystem::path> raw_files(const std::filesystem::path& work, const std::string& dataset);

Stage prepare_stage(RunContext& ctx, const RunDataset& dataset);
Stage scenes_stage(RunContext& ctx, const RunDataset& dataset, const std::string& split);    // eval | train
Stage decide_stage(RunContext& ctx, const RunDataset& dataset, const std::string& variant);  // strong | weak
Stage score_stage(RunContext& ctx, const RunDataset& dataset, const std::string& variant);
Stage distil_stage(RunContext& ctx);
Stage train_stage(RunContext& ctx);
Stage evaluate_stage(RunContext& ctx, const std::string& mode);  // direct | reasoning
Stage arena_stage(RunContext& ctx, const std::string& protocol);

std::vector<Stage> run_stages(RunContext& ctx);

}  // namespace um::pipeline
