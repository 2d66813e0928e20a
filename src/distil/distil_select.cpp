#include "distil/distil_select.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace um::distil {

std::vector<int64_t> allocate_pairs(const std::vector<int64_t>& group_scenes, int64_t select,
                                    Allocation allocation) {
  const int64_t total = std::accumulate(group_scenes.begin(), group_scenes.end(), int64_t{0});
  std::vector<int64_t> out(group_scenes.size(), 0);
  if (total == 0 || select <= 0) return out;
  if (allocation == Allocation::reference) {
    // Rows, not scenes; float arithmetic as pandas/Python does it: ceil(N_g / N * T).
    const int64_t rows = 2 * total;
    const int64_t t = std::min(select, rows);
    int64_t remaining = t;
    for (size_t g = 0; g < group_scenes.size(); ++g) {
      const int64_t rows_g = 2 * group_scenes[g];
      const auto share = static_cast<int64_t>(
          std::ceil(static_cast<double>(rows_g) / static_cast<double>(rows) * static_cast<double>(t)));
      const int64_t a = std::min({share, rows_g, remaining});
      remaining -= a;
      out[g] = std::min(a, group_scenes[g]);
    }
    return out;
  }
  const int64_t t = std::min(select, total);
  std::vector<std::pair<int64_t, size_t>> rem;  // (remainder, group)
  int64_t given = 0;
  for (size_t g = 0; g < group_scenes.size(); ++g) {
    const __int128_t q = static_cast<__int128_t>(group_scenes[g]) * t;
    out[g] = static_cast<int64_t>(q / total);
    given += out[g];
    rem.emplace_back(static_cast<int64_t>(q % total), g);
  }
  std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < t && i < rem.size(); ++i, ++given) ++out[rem[i].second];
  return out;
}

std::vector<size_t> select_scenes(const std::vector<RankedScene>& scenes, int64_t select, bool ascending,
                                  Allocation allocation, std::vector<GroupAllocation>* group_allocation) {
  std::vector<size_t> order(scenes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const RankedScene& x = scenes[a];
    const RankedScene& y = scenes[b];
    if (int c = x.dataset.compare(y.dataset); c != 0) return c < 0;
    if (x.choice_cnt != y.choice_cnt) return x.choice_cnt < y.choice_cnt;
    if (x.key != y.key) return ascending ? x.key < y.key : x.key > y.key;
    return std::tie(x.source, x.cid) < std::tie(y.source, y.cid);
  });
  // Group boundaries in key order.
  std::vector<size_t> starts;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || scenes[order[i]].dataset != scenes[order[i - 1]].dataset ||
        scenes[order[i]].choice_cnt != scenes[order[i - 1]].choice_cnt)
      starts.push_back(i);
  }
  std::vector<int64_t> sizes;
  for (size_t g = 0; g < starts.size(); ++g) {
    const size_t end = g + 1 < starts.size() ? starts[g + 1] : order.size();
    sizes.push_back(static_cast<int64_t>(end - starts[g]));
  }
  const std::vector<int64_t> take = allocate_pairs(sizes, select, allocation);
  std::vector<size_t> out;
  if (group_allocation) group_allocation->clear();
  for (size_t g = 0; g < starts.size(); ++g) {
    for (int64_t i = 0; i < take[g]; ++i) out.push_back(order[starts[g] + static_cast<size_t>(i)]);
    if (group_allocation) {
      const RankedScene& first = scenes[order[starts[g]]];
      group_allocation->push_back({first.dataset, first.choice_cnt, sizes[g], take[g]});
    }
  }
  return out;
}

}  // namespace um::distil
