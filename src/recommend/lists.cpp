// Ranked lists read from files (file: and recbole:), answered per query.
#include <algorithm>

#include "recommend/detail.h"
#include "util/error.h"

namespace um::recommend::detail {

void add_list(ListTable& table, uint32_t user, ListEntry entry, const std::string& field) {
  auto& lists = table.by_user[user];
  if (!lists.empty()) {
    const ListEntry& first = lists.front();
    if (!entry.t_us || !first.t_us)
      throw util::Error("user has more than one list (first on line " + std::to_string(first.line) +
                            "); give every list of a user a timestamp",
                        {.file = table.file.string(), .line = entry.line, .field = field});
  }
  lists.push_back(std::move(entry));
}

void finish_lists(ListTable& table) {
  for (auto& lists : table.by_user) {
    std::stable_sort(lists.begin(), lists.end(), [](const ListEntry& a, const ListEntry& b) {
      return a.t_us.value_or(0) < b.t_us.value_or(0);
    });
    for (size_t i = 1; i < lists.size(); ++i)
      if (lists[i].t_us == lists[i - 1].t_us)
        throw util::Error("two lists of the same user with the same timestamp (the other on line " +
                              std::to_string(lists[i - 1].line) + ")",
                          {.file = table.file.string(), .line = lists[i].line, .field = "timestamp"});
  }
}

Recommendation answer_from_lists(const ListTable& table, const Split& split, const Query& q) {
  std::vector<char> mask = history_mask(split, q);
  Recommendation r;
  const auto& lists = table.by_user[q.user];
  if (lists.empty()) {
    r.skip = "user not in file";
    return r;
  }
  const ListEntry* use = nullptr;
  for (const ListEntry& e : lists) {
    if (!e.t_us || *e.t_us <= q.t_us) use = &e;  // ascending: the latest at or before q.t_us
  }
  if (!use) {
    r.skip = "no list at or before the query time";
    return r;
  }
  take_ranked(r, use->items, mask, q.k);
  return r;
}

void take_ranked(Recommendation& r, const std::vector<int64_t>& items, const std::vector<char>& history,
                 size_t k) {
  std::vector<char> taken(history.size(), 0);
  for (int64_t i : items) {
    if (i < 0) {
      ++r.unknown_items;
    } else if (history[static_cast<size_t>(i)] || taken[static_cast<size_t>(i)]) {
      ++r.excluded_items;
    } else {
      taken[static_cast<size_t>(i)] = 1;
      if (r.items.size() < k) r.items.push_back(static_cast<uint32_t>(i));
    }
  }
  if (r.items.empty() && k > 0 && r.skip.empty()) r.skip = "no recommendable item in the list";
}

}  // namespace um::recommend::detail
