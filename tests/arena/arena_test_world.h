#pragma once
// A known world for arena tests: users pick items by a utility the test knows, so the true quality
// order of recommenders is known. Tests only.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "arena/choice_model.h"
#include "data/dataset_io.h"
#include "recommend/recommend.h"
#include "util/rng.h"

namespace um::arena::testing {

inline constexpr int kItems = 60;
inline double quality(uint32_t item_row) { return static_cast<double>(item_row) / kItems; }

// `users` users; 8 train interactions each drawn uniformly, then 3 test interactions drawn with
// P(item) ∝ exp(beta · quality) among unseen items. Timestamps increase per user.
inline data::Dataset known_world(int users = 240, double beta = 6.0, uint64_t seed = 5) {
  data::Dataset ds;
  ds.name = "known-world";
  for (int i = 0; i < kItems; ++i) ds.items.push_back({"i" + std::to_string(i), "{}", "{}"});
  for (int u = 0; u < users; ++u) {
    ds.users.push_back({"u" + std::to_string(u), "{}", "{}"});
    util::Rng rng = util::Rng::stream(seed, "known-world", static_cast<uint64_t>(u));
    std::vector<char> seen(kItems, 0);
    int64_t t = 1'500'000'000'000'000LL + static_cast<int64_t>(u) * 1'000'000;
    for (int k = 0; k < 11; ++k) {
      std::vector<double> w(kItems, 0.0);
      for (int i = 0; i < kItems; ++i)
        if (!seen[static_cast<size_t>(i)])
          w[static_cast<size_t>(i)] = k < 8 ? 1.0 : std::exp(beta * quality(static_cast<uint32_t>(i)));
      size_t item = rng.categorical(w);
      seen[item] = 1;
      ds.interactions.push_back({ds.users.back().id, ds.items[item].id, t += 3'600'000'000, "{}"});
    }
  }
  return ds;
}

// The utility model itself as a choice model: q_k ∝ exp(beta · quality(item_k)).
class UtilityModel final : public ChoiceModel {
 public:
  explicit UtilityModel(double beta) : beta_(beta) {}
  std::string name() const override { return "utility"; }
  bool needs_text() const override { return false; }
  std::vector<std::vector<double>> choose(const std::vector<const PageScene*>& pages) override {
    std::vector<std::vector<double>> out;
    for (const PageScene* p : pages) {
      std::vector<double> q;
      double sum = 0;
      for (uint32_t item : p->items) sum += q.emplace_back(std::exp(beta_ * quality(item)));
      for (double& v : q) v /= sum;
      out.push_back(std::move(q));
    }
    return out;
  }

 private:
  double beta_;
};

// Writes a file: recommender whose list for each test user ranks the user's unseen items by
// `score(item row)` (descending, ties by row).
template <typename Score>
std::filesystem::path write_list_file(const std::filesystem::path& path, const data::Dataset& ds,
                                      const recommend::Split& split, Score score, size_t k = 10) {
  std::ofstream out(path);
  for (uint32_t u : split.test_users) {
    auto train = split.train_items_of(u);
    std::vector<uint32_t> cand;
    for (uint32_t i = 0; i < ds.items.size(); ++i)
      if (std::find(train.begin(), train.end(), i) == train.end()) cand.push_back(i);
    std::stable_sort(cand.begin(), cand.end(), [&](uint32_t a, uint32_t b) { return score(a) > score(b); });
    cand.resize(std::min(k, cand.size()));
    out << "{\"user_id\":\"" << ds.users[u].id << "\",\"items\":[";
    for (size_t j = 0; j < cand.size(); ++j) out << (j ? "," : "") << "\"" << ds.items[cand[j]].id << "\"";
    out << "]}\n";
  }
  return path;
}

}  // namespace um::arena::testing
