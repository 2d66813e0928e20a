#pragma once
// Option-distribution arithmetic shared by distil and evaluate (docs/method.md §8.1, §10 step 7).
//
// A predictor's answer for one rationale is a letter → probability dict over the first C letters
// (A = option 0). It becomes a probability vector by flooring every entry (missing letters included)
// at kProbFloor and renormalising; entropies and loglosses are in bits, as in the reference.
#include <array>
#include <cstdint>
#include <span>

#include "scene/scene_record.h"
#include "util/rng.h"

namespace um::distil {

inline constexpr double kProbFloor = 1e-10;
// Letters A..Z (the scene record's limit); the reference uses at most 12 (train) and 5 (eval).
inline constexpr int kMaxOptions = scene::kMaxSceneOptions;

// A letter dict as read from a probs/eval file: value[k] for letter chr('A'+k); present[k] false
// for letters the dict does not mention (they get the floor).
struct LetterProbs {
  std::array<double, kMaxOptions> value{};
  std::array<bool, kMaxOptions> present{};
  void set(int k, double v) {
    value[static_cast<size_t>(k)] = v;
    present[static_cast<size_t>(k)] = true;
  }
};

// p[k] = max(dict[k] or floor, floor) / sum, k < C. Requires 1 <= C <= kMaxOptions; p.size() >= C.
void prob_vector(const LetterProbs& dict, int choice_cnt, std::span<double> p);
// Same for an already dense vector of C raw values (in place).
void floor_normalise(std::span<double> p);

// −Σ p log2 p over the first p.size() entries (p normalised, entries > 0).
double entropy_bits(std::span<const double> p);
// −log2 p[truth].
double logloss_bits(std::span<const double> p, int truth);

// One categorical draw: u = rng.uniform01(), returns the first k with u < p[0] + ... + p[k]
// (accumulated in index order); if rounding leaves u above the total, the last k with p[k] > 0.
// Unlike the reference (§11 item 21) the support is exactly the C options.
int sample_option(std::span<const double> p, util::Rng& rng);

// Index of the largest entry and how many entries tie with it (exact equality).
struct ArgMax {
  int index = 0;
  int ties = 1;
};
ArgMax arg_max(std::span<const double> p);

inline char option_letter(int k) { return static_cast<char>('A' + k); }

}  // namespace um::distil
