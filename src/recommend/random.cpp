// random: a uniform random permutation of the candidates (train items outside the history), drawn
// from util::Rng::stream(seed, "recommend/random", user << 32 | history size), so a user asked twice
// with the same history gets the same page and the session protocol's next round a fresh one.
#include "recommend/detail.h"
#include "util/rng.h"

namespace um::recommend::detail {
namespace {

class RandomRecommender final : public Recommender {
 public:
  RandomRecommender(std::string name, const Split& split, uint64_t seed, unsigned threads)
      : Recommender(std::move(name), threads), split_(split), seed_(seed) {}

  Recommendation recommend(const Query& q) const override {
    std::vector<char> mask = history_mask(split_, q);
    std::vector<uint32_t> cand;
    cand.reserve(split_.train_items.size());
    for (uint32_t i : split_.train_items)
      if (!mask[i]) cand.push_back(i);
    const uint64_t record = (static_cast<uint64_t>(q.user) << 32) | static_cast<uint32_t>(q.history.size());
    util::Rng rng = util::Rng::stream(seed_, "recommend/random", record);
    const size_t k = std::min(q.k, cand.size());
    for (size_t i = 0; i < k; ++i) {  // the first k steps of a Fisher–Yates shuffle
      size_t j = static_cast<size_t>(
          rng.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(cand.size()) - 1));
      std::swap(cand[i], cand[j]);
    }
    cand.resize(k);
    return {.items = std::move(cand)};
  }

 private:
  const Split& split_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Recommender> make_random(const std::string& spec, std::string_view, Options& opts,
                                         const Split& split, const RecommenderOptions& options) {
  opts.finish();
  return std::make_unique<RandomRecommender>(spec, split, options.seed, options.threads);
}

}  // namespace um::recommend::detail
