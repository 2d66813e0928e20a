// pop: train interaction counts (every interaction counts, repeats included). With window=DAYS only
// train interactions at most DAYS days before the latest train timestamp count; every train item
// stays a candidate (count 0 outside the window). Ties: ascending item row.
#include <algorithm>

#include "recommend/detail.h"

namespace um::recommend::detail {
namespace {

class PopRecommender final : public Recommender {
 public:
  PopRecommender(std::string name, const Split& split, double window_days, unsigned threads)
      : Recommender(std::move(name), threads), split_(split), count_(split.num_items, 0.0) {
    int64_t latest = INT64_MIN;
    for (const auto& ev : split.train)
      for (const Event& e : ev) latest = std::max(latest, e.t_us);
    const bool windowed = window_days > 0;
    const double window_us = window_days * 86400.0 * 1e6;
    for (const auto& ev : split.train)
      for (const Event& e : ev)
        if (!windowed || static_cast<double>(latest - e.t_us) <= window_us) count_[e.item] += 1;
    // The ranking without any history, reused when the history holds none of the first k.
    std::vector<char> none(split.num_items, 0);
    order_ = top_k(split, count_, none, split.train_items.size());
  }

  Recommendation recommend(const Query& q) const override {
    std::vector<char> mask = history_mask(split_, q);
    Recommendation r;
    for (uint32_t i : order_) {
      if (r.items.size() >= q.k) break;
      if (!mask[i]) r.items.push_back(i);
    }
    return r;
  }

 private:
  const Split& split_;
  std::vector<double> count_;
  std::vector<uint32_t> order_;  // all train items by count desc, row asc
};

}  // namespace

std::unique_ptr<Recommender> make_pop(const std::string& spec, std::string_view, Options& opts,
                                      const Split& split, const RecommenderOptions& options) {
  double window = opts.number("window", 0, 0, 1e6);
  opts.finish();
  return std::make_unique<PopRecommender>(spec, split, window, options.threads);
}

}  // namespace um::recommend::detail
