#include "distil/work_layout.h"

namespace um::distil {
namespace fs = std::filesystem;

fs::path decisions_path(const fs::path& work, const std::string& dataset, const std::string& variant) {
  return work / "decisions" / (dataset + "_decisions_" + variant + ".jsonl");
}
fs::path probs_path(const fs::path& work, const std::string& dataset, const std::string& variant) {
  return work / "probs" / (dataset + "_probs_" + variant + ".jsonl");
}
DistilFiles distil_files(const fs::path& work, const std::string& name) {
  const fs::path dir = work / "datasets";
  return {.pref = dir / (name + "_pref.jsonl"),
          .sft = dir / (name + "_sft.jsonl"),
          .metrics = dir / (name + "_scene_metrics.jsonl")};
}

}  // namespace um::distil
