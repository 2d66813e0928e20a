#pragma once
// Where the scene files live in a work folder: datasets/<DS>_<split>.jsonl (the reference's layout,
// docs/method.md §1.2). Header-only so that distil/work_layout.h, which re-exports it with the rest
// of the layout, adds no link dependency.
#include <filesystem>
#include <string>

namespace um::scene {

// datasets/<DS>_<split>.jsonl (split: "train" | "eval")
inline std::filesystem::path scenes_path(const std::filesystem::path& work, const std::string& dataset,
                                         const std::string& split) {
  return work / "datasets" / (dataset + "_" + split + ".jsonl");
}

}  // namespace um::scene
