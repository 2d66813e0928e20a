#pragma once
// Synthetic distil inputs in the reference's formats, for tests and benchmarks only (tests/support/,
// not part of any production library): a train scene file and strong/weak probs files whose
// distributions look like a predictor's (the teacher leans towards the ground truth more than the
// student). Not a model of real data; used to exercise and time the code paths at realistic sizes.
#include <cstdint>
#include <filesystem>
#include <string>

namespace um::distil {

struct SyntheticSpec {
  int64_t scenes = 1000;
  int rationales = 10;  // per variant
  size_t rationale_chars = 800;
  int min_options = 2;
  int max_options = 12;
  double null_fraction = 0.01;     // scenes whose probs line has "choice": null (both variants)
  double partial_fraction = 0.05;  // decisions whose letter dict omits one letter (vLLM V1 style)
  uint64_t seed = 1;
};

// Writes <work>/datasets/<ds>_train.jsonl and <work>/probs/<ds>_probs_{strong,weak}.jsonl.
void write_synthetic_distil_inputs(const std::filesystem::path& work, const std::string& ds,
                                   const SyntheticSpec& spec);

// Inputs of the score stage: <work>/datasets/<ds>_train.jsonl and
// <work>/decisions/<ds>_decisions_{strong,weak}.jsonl, each decision a rationale of
// spec.rationale_chars characters ending in "Behavior: [X]" (spec.rationales per scene and variant;
// null_fraction and partial_fraction are unused).
void write_synthetic_score_inputs(const std::filesystem::path& work, const std::string& ds,
                                  const SyntheticSpec& spec);

}  // namespace um::distil
