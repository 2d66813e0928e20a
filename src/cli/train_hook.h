#pragma once
// The [train] step of `usermirror run`: SFT on the distilled SFT file, then DPO on the preference
// pairs starting from the SFT model (docs/method.md §9), written under WORK/train/{sft,dpo}/.
#include <filesystem>
#include <string>

#include "pipeline/run_config.h"

namespace um::cli {

// Final model folder of the train step (an HF directory the engine loads).
std::filesystem::path trained_model_dir(const pipeline::RunConfig& c);
// Trains and returns the backend spec of the trained model ("local:<dir>"). The student must be a
// `local:` model folder: training needs its weights.
std::string train_hook(const pipeline::RunConfig& c, const std::filesystem::path& sft_file,
                       const std::filesystem::path& pref_file, const std::string& student_spec);

}  // namespace um::cli
