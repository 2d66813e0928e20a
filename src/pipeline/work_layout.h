#pragma once
// File names of the reference's working-directory layout (docs/method.md §1.2), in one place.
#include <filesystem>
#include <string>

namespace um::pipeline {

// datasets/<DS>_<split>.jsonl (split: "train" | "eval")
std::filesystem::path scenes_path(const std::filesystem::path& work, const std::string& dataset,
                                  const std::string& split);
// decisions/<DS>_decisions_<variant>.jsonl (variant: "strong" | "weak")
std::filesystem::path decisions_path(const std::filesystem::path& work, const std::string& dataset,
                                     const std::string& variant);
// probs/<DS>_probs_<variant>.jsonl
std::filesystem::path probs_path(const std::filesystem::path& work, const std::string& dataset,
                                 const std::string& variant);

}  // namespace um::pipeline
