#include "arena/rank_agreement.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace um::arena {
namespace {

int sign(double v) { return (v > 0) - (v < 0); }

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

}  // namespace

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw util::Error("kendall_tau_b: vectors of different lengths");
  double concordant = 0, discordant = 0, tie_x = 0, tie_y = 0, pairs = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      const int s = sign(x[i] - x[j]) * sign(y[i] - y[j]);
      pairs += 1;
      if (x[i] == x[j]) tie_x += 1;
      if (y[i] == y[j]) tie_y += 1;
      if (s > 0) concordant += 1;
      if (s < 0) discordant += 1;
    }
  }
  const double denom = std::sqrt((pairs - tie_x) * (pairs - tie_y));
  return denom > 0 ? (concordant - discordant) / denom : 0.0;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw util::Error("spearman_rho: vectors of different lengths");
  if (x.size() < 2) return 0.0;
  auto rx = average_ranks(x), ry = average_ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

std::vector<double> bradley_terry(const std::vector<std::vector<double>>& wins, int iterations) {
  const size_t n = wins.size();
  std::vector<double> p(n, n ? 1.0 / static_cast<double>(n) : 0.0);
  if (n < 2) return p;
  constexpr double kPrior = 0.5;
  for (int it = 0; it < iterations; ++it) {
    std::vector<double> next(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      double w = 0, denom = 0;
      for (size_t j = 0; j < n; ++j) {
        if (i == j) continue;
        const double wij = wins[i][j] + kPrior, wji = wins[j][i] + kPrior;
        w += wij;
        denom += (wij + wji) / (p[i] + p[j]);
      }
      next[i] = w / denom;
    }
    const double sum = std::accumulate(next.begin(), next.end(), 0.0);
    double change = 0;
    for (size_t i = 0; i < n; ++i) {
      next[i] /= sum;
      change = std::max(change, std::abs(next[i] - p[i]));
    }
    p = std::move(next);
    if (change < 1e-12) break;
  }
  return p;
}

}  // namespace um::arena
