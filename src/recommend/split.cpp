// Train/test splits of a prepared dataset and the sampling of test users (docs/arena.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include "recommend/detail.h"
#include "recommend/recommend.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::recommend {
namespace {

[[noreturn]] void split_error(std::string_view spec, const std::string& why) {
  throw util::Error("bad split '" + std::string(spec) + "': " + why +
                        " (expected global-time[:Q] with 0 < Q < 1, or leave-last[:N] with N >= 1)",
                    {.field = "split"});
}

// numpy.quantile(values, q) with the default method "linear" (Hyndman & Fan type 7), computed the
// way numpy 1.24 computes it: virtual index (n-1)q, then _lerp(a, b, t) = a + (b-a)t, or
// b - (b-a)(1-t) when t >= 0.5. `sorted` is ascending and non-empty.
double numpy_linear_quantile(const std::vector<int64_t>& sorted, double q) {
  const size_t n = sorted.size();
  double vi = static_cast<double>(n - 1) * q;
  size_t lo, hi;
  double t;
  if (vi >= static_cast<double>(n - 1)) {
    lo = hi = n - 1;
    t = vi - std::floor(vi);
  } else if (vi < 0) {
    lo = hi = 0;
    t = vi;
  } else {
    lo = static_cast<size_t>(std::floor(vi));
    hi = lo + 1;
    t = vi - static_cast<double>(lo);
  }
  const int64_t a = sorted[lo], b = sorted[hi];
  const double diff = static_cast<double>(b - a);
  if (t >= 0.5) return static_cast<double>(b) - diff * (1 - t);
  return static_cast<double>(a) + diff * t;
}

}  // namespace

std::string SplitSpec::text() const {
  if (kind == Kind::LeaveLast) return "leave-last:" + std::to_string(last);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, quantile);  // shortest round-trip form
  return "global-time:" + std::string(buf, r.ptr);
}

SplitSpec parse_split(std::string_view spec) {
  SplitSpec s;
  std::string_view name = spec, arg;
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    name = spec.substr(0, colon);
    arg = spec.substr(colon + 1);
    if (arg.empty()) split_error(spec, "empty parameter");
  }
  if (name == "global-time") {
    s.kind = SplitSpec::Kind::GlobalTime;
    if (!arg.empty()) {
      double q = 0;
      auto r = std::from_chars(arg.data(), arg.data() + arg.size(), q);
      if (r.ec != std::errc() || r.ptr != arg.data() + arg.size() || !(q > 0 && q < 1))
        split_error(spec, "Q must be a number strictly between 0 and 1");
      s.quantile = q;
    }
  } else if (name == "leave-last") {
    s.kind = SplitSpec::Kind::LeaveLast;
    if (!arg.empty()) {
      int n = 0;
      auto r = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (r.ec != std::errc() || r.ptr != arg.data() + arg.size() || n < 1)
        split_error(spec, "N must be an integer >= 1");
      s.last = n;
    }
  } else {
    split_error(spec, "unknown split kind '" + std::string(name) + "'");
  }
  return s;
}

std::vector<uint32_t> Split::train_items_of(uint32_t user) const {
  std::vector<uint32_t> out;
  if (user >= train.size()) return out;
  out.reserve(train[user].size());
  for (const Event& e : train[user]) out.push_back(e.item);
  return out;
}

Split make_split(const data::Dataset& ds, const SplitSpec& spec) {
  Split s;
  s.spec = spec;
  s.dataset = ds.name;
  s.num_users = ds.users.size();
  s.num_items = ds.items.size();
  s.user_ids.reserve(ds.users.size());
  for (const auto& u : ds.users) s.user_ids.push_back(u.id);
  s.item_ids.reserve(ds.items.size());
  for (const auto& i : ds.items) s.item_ids.push_back(i.id);
  auto user_row = detail::index_ids(s.user_ids);
  auto item_row = detail::index_ids(s.item_ids);

  // Valid interactions per user in file order; a stable sort by time keeps file order for ties.
  std::vector<std::vector<Event>> events(s.num_users);
  std::vector<int64_t> times;
  times.reserve(ds.interactions.size());
  for (const auto& x : ds.interactions) {
    auto u = user_row.find(x.user_id);
    auto i = item_row.find(x.item_id);
    if (u == user_row.end() || i == item_row.end()) {
      ++s.unknown_ids;
      continue;
    }
    events[u->second].push_back({i->second, x.timestamp_us});
    times.push_back(x.timestamp_us);
  }
  s.interactions = static_cast<int64_t>(times.size());
  if (times.empty())
    throw util::Error("dataset " + ds.name + " has no interaction between known users and items",
                      {.field = "split"});
  for (auto& ev : events)
    std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.t_us < b.t_us; });

  s.train.assign(s.num_users, {});
  std::vector<std::vector<Event>> test_all(s.num_users);
  if (spec.kind == SplitSpec::Kind::GlobalTime) {
    std::sort(times.begin(), times.end());
    double q = numpy_linear_quantile(times, spec.quantile);
    s.cutoff_us = static_cast<int64_t>(std::floor(q));
    // Timestamps are integers, so t <= q exactly when t <= floor(q).
    for (size_t u = 0; u < s.num_users; ++u)
      for (const Event& e : events[u]) (e.t_us <= s.cutoff_us ? s.train[u] : test_all[u]).push_back(e);
  } else {
    const size_t last = static_cast<size_t>(spec.last);
    for (size_t u = 0; u < s.num_users; ++u) {
      const auto& ev = events[u];
      size_t n_train = ev.size() > last ? ev.size() - last : 0;
      s.train[u].assign(ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(n_train));
      test_all[u].assign(ev.begin() + static_cast<std::ptrdiff_t>(n_train), ev.end());
    }
  }

  s.in_train.assign(s.num_items, 0);
  for (const auto& ev : s.train) {
    s.train_interactions += static_cast<int64_t>(ev.size());
    for (const Event& e : ev) s.in_train[e.item] = 1;
  }
  for (uint32_t i = 0; i < s.num_items; ++i)
    if (s.in_train[i]) s.train_items.push_back(i);
  s.test.assign(s.num_users, {});
  for (size_t u = 0; u < s.num_users; ++u) {
    for (const Event& e : test_all[u]) {
      if (s.in_train[e.item]) {
        s.test[u].push_back(e);
      } else {
        ++s.dropped_unseen_test;
      }
    }
    s.test_interactions += static_cast<int64_t>(s.test[u].size());
    if (!s.train[u].empty() && !s.test[u].empty()) s.test_users.push_back(static_cast<uint32_t>(u));
  }
  return s;
}

std::vector<uint32_t> sample_test_users(const Split& split, size_t n, uint64_t seed, bool* capped) {
  const size_t m = split.test_users.size();
  if (capped) *capped = n > m;
  if (n == 0 || n >= m) return split.test_users;
  std::vector<uint32_t> pool = split.test_users;
  util::Rng rng = util::Rng::stream(seed, "recommend/users", 0);
  for (size_t i = 0; i < n; ++i) {  // partial Fisher–Yates
    size_t j = static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(i), static_cast<int64_t>(m) - 1));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(n);
  std::sort(pool.begin(), pool.end());
  return pool;
}

}  // namespace um::recommend
