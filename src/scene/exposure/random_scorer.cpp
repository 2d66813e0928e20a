// Random scorer: i.i.d. uniform scores over every item row, top-K. The top K of i.i.d. scores is a
// uniformly random ordered K-subset, drawn directly with a partial Fisher–Yates shuffle.
#include <unordered_map>

#include "scene/exposure/scorer.h"

namespace um::scene::scorers {

namespace {

class Random final : public Scorer {
 public:
  explicit Random(size_t n) : n_(n) {}
  std::string_view name() const override { return "random"; }
  void top_k(const ScoreQuery&, size_t k, util::Rng& rng, std::vector<uint32_t>& out) const override {
    k = std::min(k, n_);
    std::unordered_map<uint32_t, uint32_t> moved;  // virtual array: position → value when swapped
    auto at = [&](uint32_t p) {
      auto it = moved.find(p);
      return it == moved.end() ? p : it->second;
    };
    for (uint32_t i = 0; i < k; ++i) {
      auto j = static_cast<uint32_t>(rng.uniform_int(i, static_cast<int64_t>(n_) - 1));
      uint32_t vi = at(i), vj = at(j);
      moved[j] = vi;
      moved[i] = vj;
      out.push_back(vj);
    }
  }

 private:
  size_t n_;
};

}  // namespace

std::unique_ptr<Scorer> random(const ScorerContext& ctx) {
  return std::make_unique<Random>(ctx.index.num_items());
}

}  // namespace um::scene::scorers
