#include "arena/interleaving.h"

#include <unordered_set>

namespace um::arena {

InterleavedPage team_draft(const std::vector<std::vector<uint32_t>>& lists, size_t page_size,
                           util::Rng& rng) {
  InterleavedPage page;
  std::unordered_set<uint32_t> used;
  std::vector<size_t> next(lists.size(), 0);
  auto advance = [&](size_t t) {
    while (next[t] < lists[t].size() && used.count(lists[t][next[t]])) ++next[t];
    return next[t] < lists[t].size();
  };
  while (page.items.size() < page_size) {
    std::vector<int> order;
    for (size_t t = 0; t < lists.size(); ++t)
      if (advance(t)) order.push_back(static_cast<int>(t));
    if (order.empty()) break;
    rng.shuffle(order);
    for (int t : order) {
      if (page.items.size() >= page_size) break;
      if (!advance(static_cast<size_t>(t))) continue;  // an earlier pick this round took its item
      uint32_t item = lists[static_cast<size_t>(t)][next[static_cast<size_t>(t)]];
      used.insert(item);
      page.items.push_back(item);
      page.team.push_back(t);
    }
  }
  return page;
}

}  // namespace um::arena
