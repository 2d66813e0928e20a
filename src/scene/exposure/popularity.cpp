// Popularity scorer (implemented but unused by the reference): items by interaction count. The
// ranking is the same for every scene, so it is computed once.
#include "scene/exposure/scorer.h"

namespace um::scene::scorers {

namespace {

class Popularity final : public Scorer {
 public:
  explicit Popularity(const DatasetIndex& index) {
    counts_.assign(index.num_items(), 0.0f);
    for (size_t k = 0; k < index.dataset().interactions.size(); ++k)
      counts_[index.interaction_item(k)] += 1.0f;
    top_k_indices(counts_.data(), counts_.size(), counts_.size(), ranking_);
  }
  std::string_view name() const override { return "popularity"; }
  void top_k(const ScoreQuery&, size_t k, util::Rng&, std::vector<uint32_t>& out) const override {
    k = std::min(k, ranking_.size());
    out.insert(out.end(), ranking_.begin(), ranking_.begin() + static_cast<std::ptrdiff_t>(k));
  }

 private:
  std::vector<float> counts_;
  std::vector<uint32_t> ranking_;
};

}  // namespace

std::unique_ptr<Scorer> popularity(const ScorerContext& ctx) {
  return std::make_unique<Popularity>(ctx.index);
}

}  // namespace um::scene::scorers
