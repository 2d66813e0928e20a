#pragma once
// Small composable sampling pieces on one logits row (torch-free). A sampler is the chain
//   candidates → temperature → top_k → softmax → top_p → min_p → draw
// and greedy decoding is argmax. Every piece keeps candidates sorted by descending logit after
// top_k/softmax so later pieces can cut prefixes.
#include <cstdint>
#include <span>
#include <vector>

#include "util/rng.h"

namespace um::model {

struct Candidate {
  int32_t id;
  float logit;
  double p = 0.0;  // filled by softmax()
};

struct SamplingParams {
  double temperature = 1.0;  // 0 = greedy
  int top_k = 0;             // 0 = off
  double top_p = 1.0;        // 1 = off
  double min_p = 0.0;        // 0 = off
};

// Greedy choice: the highest logit, lowest id on ties.
int32_t argmax(std::span<const float> logits);

std::vector<Candidate> candidates(std::span<const float> logits);
void apply_temperature(std::vector<Candidate>& c, double temperature);  // temperature > 0
// Keeps the k highest (ties broken by lower id) and sorts descending; k <= 0 only sorts.
void top_k(std::vector<Candidate>& c, int k);
// Probabilities (double) from the logits; requires sorted candidates.
void softmax(std::vector<Candidate>& c);
// Smallest prefix whose probability mass reaches p (at least one candidate); renormalises.
void top_p(std::vector<Candidate>& c, double p);
// Drops candidates with probability below min_p × the top probability; renormalises.
void min_p(std::vector<Candidate>& c, double min_p);
// Draws one id according to the candidates' probabilities.
int32_t draw(const std::vector<Candidate>& c, util::Rng& rng);

// The whole chain (greedy when temperature == 0).
int32_t sample(std::span<const float> logits, const SamplingParams& params, util::Rng& rng);

}  // namespace um::model
