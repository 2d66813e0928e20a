#pragma once
// Small composable sampling pieces on one logits row (torch-free). The definition of a sampler is
// the chain
//   candidates → temperature → top_k → softmax → top_p → min_p → draw
// and greedy decoding is argmax. Every piece keeps candidates sorted by descending logit (ties: lower
// id first) after top_k/softmax so later pieces can cut prefixes. sample() computes exactly this
// chain (same floating-point operations in the same order, so the same id for the same uniform
// number) in O(V) instead of sorting all V candidates; see sampling.cpp.
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

// Which ids may be chosen: empty = every id of the row; otherwise id i may be chosen iff
// i < mask.size() and mask[i] != 0. Masked ids are not candidates at all (as if the row had no such
// entry): the embedded backend masks the padding rows of a vocabulary (config vocab_size above the
// tokenizer's size) and ids without a token, so a sampled id always decodes.
using TokenMask = std::span<const uint8_t>;

// Greedy choice: the highest logit among the allowed ids, lowest id on ties.
int32_t argmax(std::span<const float> logits, TokenMask allowed = {});

std::vector<Candidate> candidates(std::span<const float> logits, TokenMask allowed = {});
void apply_temperature(std::vector<Candidate>& c, double temperature);  // temperature > 0
// Keeps the k highest (ties broken by lower id) and sorts descending; k <= 0 only sorts.
void top_k(std::vector<Candidate>& c, int k);
// Probabilities (double) from the logits; requires sorted candidates.
void softmax(std::vector<Candidate>& c);
// Smallest prefix whose probability mass reaches p (at least one candidate); renormalises.
void top_p(std::vector<Candidate>& c, double p);
// Drops candidates with probability below min_p × the top probability; renormalises.
void min_p(std::vector<Candidate>& c, double min_p);
// Draws one id according to the candidates' probabilities (one rng.uniform01()).
int32_t draw(const std::vector<Candidate>& c, util::Rng& rng);
// The same with the uniform number u in [0, 1) given.
int32_t draw_at(const std::vector<Candidate>& c, double u);

// The whole chain (greedy when temperature == 0), computed in O(V). Draws exactly one
// rng.uniform01() when temperature > 0 and none when greedy.
int32_t sample(std::span<const float> logits, const SamplingParams& params, util::Rng& rng,
               TokenMask allowed = {});
// The whole chain by sorting all candidates (the definition, O(V log V)); sample() equals it.
int32_t sample_by_sorting(std::span<const float> logits, const SamplingParams& params, util::Rng& rng,
                          TokenMask allowed = {});

}  // namespace um::model
