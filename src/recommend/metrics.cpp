// Offline metrics on the held-out part, RecBole's definitions with binary relevance:
//   HR@K = 1 if any of the top K is relevant; Recall@K = hits / |relevant|;
//   NDCG@K = Σ_{hits at rank r} 1/log2(r+1) / Σ_{r=1..min(|relevant|,K)} 1/log2(r+1);
//   MRR@K = 1 / rank of the first hit (0 without one); Precision@K = hits / K.
// Relevant items are counted once each; a user without relevant items scores 0 everywhere.
#include <cmath>
#include <unordered_set>

#include "recommend/recommend.h"
#include "util/error.h"

namespace um::recommend {

OfflineMetrics offline_metrics(const std::vector<std::vector<uint32_t>>& lists,
                               const std::vector<std::vector<uint32_t>>& relevant, int k) {
  if (lists.size() != relevant.size())
    throw util::Error(
        std::to_string(lists.size()) + " lists for " + std::to_string(relevant.size()) + " users",
        {.field = "lists"});
  if (k < 1) throw util::Error("K must be >= 1, got " + std::to_string(k), {.field = "k"});
  OfflineMetrics m;
  m.k = k;
  const std::string at = "@" + std::to_string(k);
  const std::vector<std::string> names = {"hr" + at, "recall" + at, "ndcg" + at, "mrr" + at,
                                          "precision" + at};
  std::vector<std::vector<double>*> col;
  for (const auto& n : names) {
    auto& v = m.per_user[n];
    v.assign(lists.size(), 0.0);
    col.push_back(&v);
  }
  for (size_t u = 0; u < lists.size(); ++u) {
    std::unordered_set<uint32_t> rel(relevant[u].begin(), relevant[u].end());
    if (rel.empty()) continue;
    size_t hits = 0, first = 0;
    double dcg = 0, idcg = 0;
    const size_t n = std::min(lists[u].size(), static_cast<size_t>(k));
    for (size_t r = 0; r < n; ++r) {
      if (!rel.count(lists[u][r])) continue;
      ++hits;
      if (first == 0) first = r + 1;
      dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
    const size_t ideal = std::min(rel.size(), static_cast<size_t>(k));
    for (size_t r = 0; r < ideal; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    (*col[0])[u] = hits > 0 ? 1.0 : 0.0;
    (*col[1])[u] = static_cast<double>(hits) / static_cast<double>(rel.size());
    (*col[2])[u] = dcg / idcg;
    (*col[3])[u] = first > 0 ? 1.0 / static_cast<double>(first) : 0.0;
    (*col[4])[u] = static_cast<double>(hits) / static_cast<double>(k);
  }
  for (const auto& [name, v] : m.per_user) {
    double s = 0;
    for (double x : v) s += x;
    m.mean[name] = v.empty() ? 0.0 : s / static_cast<double>(v.size());
  }
  return m;
}

}  // namespace um::recommend
