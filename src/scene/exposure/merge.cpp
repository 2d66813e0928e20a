#include "scene/exposure/merge.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace um::scene {

std::vector<uint32_t> merge_ranked_lists(const std::vector<std::vector<uint32_t>>& lists, util::Rng& rng) {
  size_t total = 0;
  for (const auto& l : lists) total += l.size();
  std::vector<uint32_t> perm(total);
  std::iota(perm.begin(), perm.end(), 0u);
  rng.shuffle(perm);
  std::vector<uint32_t> merged(total);
  size_t offset = 0;
  for (const auto& l : lists) {
    auto b = perm.begin() + static_cast<std::ptrdiff_t>(offset);
    std::sort(b, b + static_cast<std::ptrdiff_t>(l.size()));
    for (size_t r = 0; r < l.size(); ++r) merged[perm[offset + r]] = l[r];
    offset += l.size();
  }
  std::vector<uint32_t> out;
  out.reserve(total);
  for (uint32_t item : merged) {
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  return out;
}

std::optional<Exposure> shape_exposure(const std::vector<uint32_t>& negatives, uint32_t ground_truth,
                                       const ExposureShape& shape, util::Rng& length_rng,
                                       util::Rng& pos_rng) {
  if (shape.min_options < 1 || shape.max_options < shape.min_options) {
    throw util::Error("exposure range must satisfy 1 <= min <= max (got " +
                      std::to_string(shape.min_options) + ".." + std::to_string(shape.max_options) + ")");
  }
  int64_t n_neg = length_rng.uniform_int(shape.min_options - 1, shape.max_options - 1);
  n_neg = std::min<int64_t>(n_neg, static_cast<int64_t>(negatives.size()));
  if (n_neg < shape.min_options - 1) return std::nullopt;
  Exposure e;
  e.items.assign(negatives.begin(), negatives.begin() + n_neg);
  // Reference: randint(0, n_neg − 1), which fails for n_neg = 0; there we use position 0.
  int64_t hi = shape.reference_positions.value_or(false) ? std::max<int64_t>(n_neg - 1, 0) : n_neg;
  e.item_pos = static_cast<int>(pos_rng.uniform_int(0, hi));
  e.items.insert(e.items.begin() + e.item_pos, ground_truth);
  return e;
}

}  // namespace um::scene
