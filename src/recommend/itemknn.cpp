// itemknn: item-item cosine on the binary user x item train matrix with shrinkage,
//   sim(a, b) = |U(a) ∩ U(b)| / (sqrt|U(a)| * sqrt|U(b)| + shrink),
// each item j keeping its k most similar other items N(j) (sim > 0; ties: ascending row), and
//   score(j) = sum over history items h with h in N(j) of sim(h, j),
// i.e. RecBole's ItemKNN prediction X·W with W's columns cut to the top k. The co-occurrence
// counts are computed sparsely (for each item, walk its users' item lists), in parallel over
// items; each item's neighbours depend only on integer counts, so nothing depends on the thread
// count. The score sums run over the history in ascending item row order.
#include <algorithm>
#include <cmath>

#include "recommend/detail.h"
#include "util/progress.h"
#include "util/thread_pool.h"

namespace um::recommend::detail {
namespace {

struct Neighbour {
  uint32_t item;
  double sim;
};

class ItemKnnRecommender final : public Recommender {
 public:
  ItemKnnRecommender(std::string name, const Split& split, size_t k, double shrink,
                     const RecommenderOptions& o)
      : Recommender(std::move(name), o.threads), split_(split), by_history_(split.num_items) {
    TrainMatrix m = train_matrix(split);
    std::vector<double> norm(split.num_items);
    for (size_t i = 0; i < split.num_items; ++i)
      norm[i] = std::sqrt(static_cast<double>(m.users_of_item[i].size()));
    const auto& items = split.train_items;
    std::vector<std::vector<Neighbour>> nn(items.size());
    std::unique_ptr<util::Progress> bar;
    if (o.progress) bar = std::make_unique<util::Progress>("itemknn", items.size(), "items");
    util::parallel_for(items.size(), o.threads, [&](size_t idx) {
      thread_local std::vector<int32_t> count;
      thread_local std::vector<uint32_t> touched;
      if (count.size() < split.num_items) count.assign(split.num_items, 0);
      touched.clear();
      const uint32_t j = items[idx];
      for (uint32_t u : m.users_of_item[j])
        for (uint32_t i : m.items_of_user[u]) {
          if (count[i]++ == 0) touched.push_back(i);
        }
      std::vector<Neighbour> cand;
      cand.reserve(touched.size());
      for (uint32_t i : touched) {
        if (i != j) cand.push_back({i, static_cast<double>(count[i]) / (norm[i] * norm[j] + shrink)});
        count[i] = 0;
      }
      auto better = [](const Neighbour& a, const Neighbour& b) {
        return a.sim != b.sim ? a.sim > b.sim : a.item < b.item;
      };
      size_t keep = std::min(k, cand.size());
      std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), cand.end(), better);
      cand.resize(keep);
      nn[idx] = std::move(cand);
      if (bar) bar->add(1);
    });
    if (bar) bar->finish();
    // Transpose: for each history item h, the (j, sim(h, j)) with h in N(j), ascending j.
    for (size_t idx = 0; idx < items.size(); ++idx)
      for (const Neighbour& n : nn[idx]) by_history_[n.item].push_back({items[idx], n.sim});
  }

  Recommendation recommend(const Query& q) const override {
    std::vector<char> mask = history_mask(split_, q);
    std::vector<double> score(split_.num_items, 0.0);
    for (size_t h = 0; h < split_.num_items; ++h) {  // ascending history rows, each item once
      if (!mask[h]) continue;
      for (const Neighbour& n : by_history_[h]) score[n.item] += n.sim;
    }
    return {.items = top_k(split_, score, mask, q.k)};
  }

 private:
  const Split& split_;
  std::vector<std::vector<Neighbour>> by_history_;
};

}  // namespace

std::unique_ptr<Recommender> make_itemknn(const std::string& spec, std::string_view, Options& opts,
                                          const Split& split, const RecommenderOptions& options) {
  auto k = static_cast<size_t>(opts.integer("k", 100, 1, 1000000));
  double shrink = opts.number("shrink", 10, 0, 1e12);
  opts.finish();
  return std::make_unique<ItemKnnRecommender>(spec, split, k, shrink, options);
}

}  // namespace um::recommend::detail
