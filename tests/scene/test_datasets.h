#pragma once
// Small in-memory datasets for scene tests.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "data/schema.h"
#include "util/time.h"

namespace um::scene::testing {

inline int64_t at(const char* datetime) { return *util::parse_datetime(datetime); }

// A MovieLens-shaped dataset: `users` users, `items` movies (years 1990..1999), each user with
// 8..20 ratings at distinct random times in 1998–1999 (a few exact ties), deterministic.
inline data::Dataset synthetic_movielens(int users = 40, int items = 60, uint32_t seed = 7) {
  data::Dataset ds;
  ds.name = "ml-1m";
  std::mt19937 gen(seed);
  for (int i = 0; i < items; ++i) {
    std::string year = std::to_string(1990 + i % 10);
    ds.items.push_back({std::to_string(i + 1),
                        "{\"title\":\"Movie " + std::to_string(i + 1) + " (" + year +
                            ")\",\"genres\":\"Drama|Comedy\",\"year\":\"" + year + "\"}",
                        R"({"year":")" + year + "\"}"});
  }
  const int64_t t0 = at("1998-01-01 00:00:00");
  for (int u = 0; u < users; ++u) {
    ds.users.push_back({std::to_string(u + 1),
                        R"({"gender":"male","age":"25-34","occupation":"programmer","location":"Unknown"})",
                        "{}"});
    int n = std::min(items, 8 + static_cast<int>(gen() % 13));
    std::vector<int> chosen;
    while (static_cast<int>(chosen.size()) < n) {
      int it = static_cast<int>(gen() % static_cast<uint32_t>(items));
      if (std::find(chosen.begin(), chosen.end(), it) == chosen.end()) chosen.push_back(it);
    }
    int64_t t = t0 + static_cast<int64_t>(gen() % 1000) * 3600LL * 1000000;
    for (int c : chosen) {
      if (gen() % 7 != 0) t += static_cast<int64_t>(1 + gen() % 500) * 3600LL * 1000000;  // else: a tie
      ds.interactions.push_back({std::to_string(u + 1), std::to_string(c + 1), t,
                                 "{\"rating\":" + std::to_string(1 + gen() % 5) + ".0}"});
    }
  }
  // interaction file order is not time order
  std::shuffle(ds.interactions.begin(), ds.interactions.end(), gen);
  return ds;
}

}  // namespace um::scene::testing
