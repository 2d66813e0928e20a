#pragma once
// Candidate-list assembly (docs/method.md §4.5–4.7): the randomised order-keeping merge of the
// scorers' ranked lists, and the exposure length / ground-truth position draw.
#include <cstdint>
#include <optional>
#include <vector>

#include "util/rng.h"

namespace um::scene {

// Draws a uniform permutation of 0..T−1 (T = total length), cuts it into consecutive blocks of the
// lists' sizes, writes list j's items in rank order into its block's positions sorted ascending,
// then drops repeated items keeping first occurrences. Each list's internal order is preserved.
std::vector<uint32_t> merge_ranked_lists(const std::vector<std::vector<uint32_t>>& lists, util::Rng& rng);

struct ExposureShape {
  int min_options = 5;  // exposure length range, ground truth included
  int max_options = 5;
  // false: ground truth uniform over all n_neg + 1 positions (our default); true: uniform over
  // 0..n_neg−1 as the reference (never last, docs/method.md §11.1). Unset: the compat default
  // (SceneConfig::compat; false here).
  std::optional<bool> reference_positions;
};

struct Exposure {
  std::vector<uint32_t> items;  // ground truth included
  int item_pos = 0;
};

// n_neg ~ U{min−1, …, max−1} (one draw from `length_rng`); keeps the first n_neg negatives; nullopt
// when fewer than min−1 remain. The ground truth is inserted at a position drawn from `pos_rng`.
std::optional<Exposure> shape_exposure(const std::vector<uint32_t>& negatives, uint32_t ground_truth,
                                       const ExposureShape& shape, util::Rng& length_rng, util::Rng& pos_rng);

}  // namespace um::scene
