// Shared pieces of the recommenders: spec options, history masks, top-K with the tie rule (score
// descending, then ascending item row), the binary train matrix, and the default batch loop.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "recommend/detail.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace um::recommend {

std::vector<Recommendation> Recommender::recommend_batch(const std::vector<Query>& queries) const {
  std::vector<Recommendation> out(queries.size());
  util::parallel_for(queries.size(), threads_, [&](size_t i) { out[i] = recommend(queries[i]); });
  return out;
}

namespace detail {

void spec_error(const std::string& spec, const std::string& message) {
  throw util::Error("recommender '" + spec + "': " + message, {.field = "recommenders"});
}

std::pair<std::string, Options> parse_spec(std::string_view spec) {
  std::string name(spec), query;
  if (size_t q = name.find('?'); q != std::string::npos) {
    query = name.substr(q + 1);
    name.resize(q);
  }
  std::map<std::string, std::string> values;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
      spec_error(std::string(spec), "option '" + kv + "' is not key=value");
    if (!values.emplace(kv.substr(0, eq), kv.substr(eq + 1)).second)
      spec_error(std::string(spec), "option '" + kv.substr(0, eq) + "' given twice");
    pos = amp + 1;
  }
  return {name, Options(std::string(spec), std::move(values))};
}

double Options::number(const std::string& key, double fallback, double lo, double hi) {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string v = it->second;
  values_.erase(it);
  double x = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(x) || x < lo || x > hi)
    spec_error(spec_, "option " + key + "=" + v + " is not a number in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  return x;
}

int64_t Options::integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string v = it->second;
  values_.erase(it);
  int64_t x = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || x < lo || x > hi)
    spec_error(spec_, "option " + key + "=" + v + " is not an integer in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  return x;
}

void Options::finish() const {
  if (values_.empty()) return;
  std::string names;
  for (const auto& [k, v] : values_) names += (names.empty() ? "" : ", ") + k;
  spec_error(spec_, "unknown option(s) " + names);
}

std::vector<char> history_mask(const Split& split, const Query& q) {
  if (q.user >= split.num_users)
    throw util::Error("query for user row " + std::to_string(q.user) + ", the dataset has " +
                          std::to_string(split.num_users) + " users",
                      {.field = "user"});
  std::vector<char> mask(split.num_items, 0);
  for (uint32_t i : q.history) {
    if (i >= split.num_items)
      throw util::Error("query history holds item row " + std::to_string(i) + ", the dataset has " +
                            std::to_string(split.num_items) + " items",
                        {.field = "history"});
    mask[i] = 1;
  }
  return mask;
}

std::vector<uint32_t> top_k(const Split& split, const std::vector<double>& score,
                            const std::vector<char>& excluded, size_t k) {
  std::vector<uint32_t> cand;
  cand.reserve(split.train_items.size());
  for (uint32_t i : split.train_items)
    if (!excluded[i]) cand.push_back(i);
  auto better = [&](uint32_t a, uint32_t b) { return score[a] != score[b] ? score[a] > score[b] : a < b; };
  k = std::min(k, cand.size());
  std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(k), cand.end(), better);
  cand.resize(k);
  return cand;
}

TrainMatrix train_matrix(const Split& split) {
  TrainMatrix m;
  m.items_of_user.resize(split.num_users);
  m.users_of_item.resize(split.num_items);
  for (size_t u = 0; u < split.num_users; ++u) {
    auto& items = m.items_of_user[u];
    for (const Event& e : split.train[u]) items.push_back(e.item);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    m.pairs += static_cast<int64_t>(items.size());
    for (uint32_t i : items) m.users_of_item[i].push_back(static_cast<uint32_t>(u));  // ascending u
  }
  return m;
}

std::unordered_map<std::string, uint32_t> index_ids(const std::vector<std::string>& ids) {
  std::unordered_map<std::string, uint32_t> m;
  m.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) m.emplace(ids[i], static_cast<uint32_t>(i));  // first row wins
  return m;
}

}  // namespace detail
}  // namespace um::recommend
