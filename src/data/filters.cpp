#include "data/filters.h"

#include <algorithm>
#include <charconv>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace um::data {

CountFilter count_filter(const ReadContext& ctx) {
  const FilterOptions& o = ctx.filters;
  return {.min_user = o.min_user_interactions.value_or(ctx.defaults.min_user_interactions),
          .max_user = o.max_user_interactions.value_or(ctx.defaults.max_user_interactions),
          .min_item = o.min_item_interactions.value_or(ctx.defaults.min_item_interactions),
          .kcore = o.kcore};
}

void apply_count_filter(Dataset& ds, const CountFilter& f, const ReadContext& ctx) {
  for (int round = 0;; ++round) {
    std::unordered_map<std::string_view, int64_t> per_user, per_item;
    per_user.reserve(ds.users.size() + 1024);
    per_item.reserve(ds.items.size() + 1024);
    for (const auto& x : ds.interactions) {
      per_user[x.user_id]++;
      per_item[x.item_id]++;
    }
    size_t before = ds.interactions.size();
    bool any_out = false;  // most datasets already satisfy their bounds: skip the second pass
    for (const auto& [u, n] : per_user)
      any_out = any_out || n < f.min_user || (f.max_user > 0 && n > f.max_user);
    for (const auto& [i, n] : per_item) any_out = any_out || n < f.min_item;
    if (!any_out) break;
    // Decide first, move after: the count maps hold views into the interactions' strings.
    std::vector<char> keep(before, 1);
    uint64_t drop_user = 0, drop_item = 0;
    for (size_t i = 0; i < before; ++i) {
      const auto& x = ds.interactions[i];
      int64_t nu = per_user[x.user_id];
      if (nu < f.min_user || (f.max_user > 0 && nu > f.max_user)) {
        ++drop_user;
        keep[i] = 0;
      } else if (per_item[x.item_id] < f.min_item) {
        ++drop_item;
        keep[i] = 0;
      }
    }
    per_user.clear();
    per_item.clear();
    std::vector<Interaction> kept;
    kept.reserve(before - drop_user - drop_item);
    for (size_t i = 0; i < before; ++i)
      if (keep[i]) kept.push_back(std::move(ds.interactions[i]));
    ds.interactions = std::move(kept);
    if (drop_user) ctx.count("dropped: user interaction count", drop_user);
    if (drop_item) ctx.count("dropped: item interaction count", drop_item);
    if (!f.kcore || ds.interactions.size() == before) break;
  }
  std::unordered_set<std::string_view> active;
  for (const auto& x : ds.interactions) active.insert(x.user_id);
  size_t users_before = ds.users.size();
  std::erase_if(ds.users, [&](const User& u) { return !active.count(u.id); });
  if (users_before != ds.users.size())
    ctx.count("dropped: users without interactions", users_before - ds.users.size());
}

void dedup_user_item_keep_earliest(Dataset& ds, const ReadContext& ctx) {
  std::vector<size_t> order(ds.interactions.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ds.interactions[a].timestamp_us < ds.interactions[b].timestamp_us;
  });
  std::unordered_set<std::string> seen;
  std::vector<char> keep(ds.interactions.size(), 0);
  for (size_t i : order) {
    const auto& x = ds.interactions[i];
    if (seen.insert(x.user_id + '\x1f' + x.item_id).second) keep[i] = 1;
  }
  std::vector<Interaction> out;
  out.reserve(seen.size());
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) out.push_back(std::move(ds.interactions[i]));
  if (out.size() != ds.interactions.size())
    ctx.count("dropped: duplicate user-item", ds.interactions.size() - out.size());
  ds.interactions = std::move(out);
}

int64_t parse_int(std::string_view s, const util::Location& where) {
  while (!s.empty() && (s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ')) s.remove_suffix(1);
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw util::Error("not an integer: '" + std::string(s) + "'", where)
        .with_reason("bad integer in " + where.field);
  return v;
}

double parse_double(std::string_view s, const util::Location& where) {
  while (!s.empty() && (s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ')) s.remove_suffix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw util::Error("not a number: '" + std::string(s) + "'", where)
        .with_reason("bad number in " + where.field);
  return v;
}

}  // namespace um::data
