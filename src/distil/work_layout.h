#pragma once
// File names of the reference's working-directory layout (docs/method.md §1.2). Each is built in one
// place, the lowest component that writes it: raws/<DS>_*.jsonl by data (data/schema.h: user_file,
// item_file, interaction_file), datasets/<DS>_<split>.jsonl by scene (scene/scene_paths.h, re-exported
// here), the rest below.
#include <filesystem>
#include <string>

#include "scene/scene_paths.h"

namespace um::distil {

// datasets/<DS>_<split>.jsonl (split: "train" | "eval")
using scene::scenes_path;
// decisions/<DS>_decisions_<variant>.jsonl (variant: "strong" | "weak")
std::filesystem::path decisions_path(const std::filesystem::path& work, const std::string& dataset,
                                     const std::string& variant);
// probs/<DS>_probs_<variant>.jsonl
std::filesystem::path probs_path(const std::filesystem::path& work, const std::string& dataset,
                                 const std::string& variant);

// The distil outputs of run `name`: datasets/<name>_pref.jsonl, _sft.jsonl, _scene_metrics.jsonl.
struct DistilFiles {
  std::filesystem::path pref, sft, metrics;
};
DistilFiles distil_files(const std::filesystem::path& work, const std::string& name);

}  // namespace um::distil
