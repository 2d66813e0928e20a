#include "pipeline/work_layout.h"

namespace um::pipeline {
namespace fs = std::filesystem;

fs::path decisions_path(const fs::path& work, const std::string& dataset, const std::string& variant) {
  return work / "decisions" / (dataset + "_decisions_" + variant + ".jsonl");
}
fs::path probs_path(const fs::path& work, const std::string& dataset, const std::string& variant) {
  return work / "probs" / (dataset + "_probs_" + variant + ".jsonl");
}
fs::path scenes_path(const fs::path& work, const std::string& dataset, const std::string& split) {
  return work / "datasets" / (dataset + "_" + split + ".jsonl");
}

}  // namespace um::pipeline
