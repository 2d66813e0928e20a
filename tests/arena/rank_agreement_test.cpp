#include "arena/rank_agreement.h"

#include <gtest/gtest.h>

namespace um::arena {
namespace {

// Expected values from scipy.stats.kendalltau / spearmanr (Debian python3-scipy 1.10).
TEST(RankAgreement, KendallTauBMatchesScipyWithTies) {
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3, 5}, {1, 3, 2, 2, 4}), 0.6666666666666666, 1e-12);
  EXPECT_NEAR(kendall_tau_b({0.3, 0.1, 0.2, 0.9}, {10, 30, 20, 5}), -1.0, 1e-12);
  EXPECT_NEAR(kendall_tau_b({1, 2, 3}, {1, 3, 2}), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(kendall_tau_b({1, 1, 1}, {1, 2, 3}), 0.0);  // undefined: reported as 0
}

TEST(RankAgreement, SpearmanMatchesScipyWithTies) {
  EXPECT_NEAR(spearman_rho({1, 2, 2, 3, 5}, {1, 3, 2, 2, 4}), 0.7631578947368421, 1e-12);
  EXPECT_NEAR(spearman_rho({1, 2, 3, 4}, {40, 30, 20, 10}), -1.0, 1e-12);
}

TEST(RankAgreement, BradleyTerryOrdersByWinsAndIsNormalised) {
  // a beats b 70/30, b beats c 70/30, a beats c 80/20.
  std::vector<std::vector<double>> wins = {{0, 70, 80}, {30, 0, 70}, {20, 30, 0}};
  auto p = bradley_terry(wins);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_GT(p[0], p[1]);
  EXPECT_GT(p[1], p[2]);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  // Two players: the MM fixed point is p_a / (p_a + p_b) = (w_ab + 0.5) / (n + 1).
  auto q = bradley_terry({{0, 30}, {10, 0}});
  EXPECT_NEAR(q[0] / (q[0] + q[1]), 30.5 / 41.0, 1e-9);
}

}  // namespace
}  // namespace um::arena
