#include "distil/distil_scene.h"

#include <gtest/gtest.h>

#include <cmath>

namespace um::distil {
namespace {

LetterProbs dict(std::initializer_list<double> v) {
  LetterProbs d;
  int k = 0;
  for (double x : v) d.set(k++, x);
  return d;
}

TEST(DistilScene, VariantSummaryHandComputed) {
  // Two options, truth A. Decision 0 is certain of A, decision 1 is undecided.
  const std::vector<LetterProbs> choice{dict({1.0, 0.0}), dict({0.5, 0.5})};
  util::Rng rng(3);
  std::vector<DecisionStat> st;
  const VariantSummary s = summarise_variant(choice, 2, 0, rng, st);
  ASSERT_EQ(st.size(), 2u);
  // p0 = [1, 1e-10]/(1+1e-10): entropy ≈ 1e-10 log2(1e10) + ... ≈ 3.4e-9 bits.
  EXPECT_NEAR(st[0].entropy, 3.4661976e-9, 1e-15);
  EXPECT_DOUBLE_EQ(st[1].entropy, 1.0);
  EXPECT_NEAR(st[0].logloss, 0.0, 1e-9);
  EXPECT_DOUBLE_EQ(st[1].logloss, 1.0);
  EXPECT_EQ(st[0].behavior, 0);
  EXPECT_TRUE(st[0].preference);
  EXPECT_NEAR(s.mean_entropy, 0.5, 1e-8);
  EXPECT_NEAR(s.mean_logloss, 0.5, 1e-9);
  // Mean distribution ≈ [0.75, 0.25].
  EXPECT_NEAR(s.uncertainty, 0.8112781244591328, 1e-8);
  EXPECT_EQ(s.n, 2);
  EXPECT_DOUBLE_EQ(s.hit_rate, (st[0].preference + st[1].preference) / 2.0);
}

TEST(DistilScene, MetricsAreStudentMinusTeacher) {
  VariantSummary t{.n = 3, .mean_entropy = 0.4, .uncertainty = 0.9, .mean_logloss = 1.5, .hit_rate = 2.0 / 3};
  VariantSummary s{.n = 2, .mean_entropy = 1.1, .uncertainty = 1.3, .mean_logloss = 2.5, .hit_rate = 0.5};
  const SceneMetrics m = scene_metrics(t, s);
  EXPECT_DOUBLE_EQ(m.teacher_entropy, 0.4);
  EXPECT_DOUBLE_EQ(m.student_entropy, 1.1);
  EXPECT_DOUBLE_EQ(m.teacher_data_uncertainty, 0.9 - 0.4);
  EXPECT_DOUBLE_EQ(m.student_data_uncertainty, 1.3 - 1.1);
  EXPECT_DOUBLE_EQ(m.diff_all_uncertainty, 1.3 - 0.9);
  EXPECT_DOUBLE_EQ(m.diff_model_uncertainty, 1.1 - 0.4);
  EXPECT_DOUBLE_EQ(m.diff_data_uncertainty, (1.3 - 0.9) - (1.1 - 0.4));
  EXPECT_DOUBLE_EQ(m.teacher_logloss, 1.5);
  EXPECT_DOUBLE_EQ(m.student_logloss, 2.5);
  EXPECT_DOUBLE_EQ(m.diff_hit, 0.5 - 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric_value(m, *parse_metric_column("diff_model_uncertainty")), 1.1 - 0.4);
  EXPECT_FALSE(parse_metric_column("random"));
  for (int c = 0; c < kMetricColumns; ++c)
    EXPECT_EQ(parse_metric_column(metric_column_name(static_cast<MetricColumn>(c))),
              static_cast<MetricColumn>(c));
}

DecisionStat stat(double entropy, double logloss, int behavior, bool pref) {
  return {.entropy = entropy, .logloss = logloss, .behavior = behavior, .preference = pref};
}

TEST(DistilScene, PickPairSmallestEntropyTeacherHitAndAnyMiss) {
  const std::vector<DecisionStat> strong{stat(0.9, 0.1, 1, true), stat(0.3, 0.2, 1, true),
                                         stat(0.5, 3.0, 0, false)};
  // The weak hit (entropy 0.01) is not in the pool; the weak miss with entropy 0.2 beats 0.5.
  const std::vector<DecisionStat> weak{stat(0.01, 0.0, 1, true), stat(0.2, 4.0, 2, false)};
  util::Rng rng(1);
  PairPick p = pick_pair(strong, weak, SamplingColumn::entropy, rng);
  ASSERT_TRUE(p.chosen && p.rejected);
  EXPECT_EQ(p.chosen->variant, Variant::strong);
  EXPECT_EQ(p.chosen->index, 1);
  EXPECT_EQ(p.rejected->variant, Variant::weak);
  EXPECT_EQ(p.rejected->index, 1);
  EXPECT_EQ(p.rejected->behavior, 2);
  // By logloss: chosen strong 0 (0.1), rejected strong 2 (3.0 < 4.0).
  p = pick_pair(strong, weak, SamplingColumn::logloss, rng);
  EXPECT_EQ(p.chosen->index, 0);
  EXPECT_EQ(p.rejected->variant, Variant::strong);
  EXPECT_EQ(p.rejected->index, 2);
}

TEST(DistilScene, PickPairTiesGoToPoolOrderAndMissingSides) {
  const std::vector<DecisionStat> strong{stat(0.5, 1, 0, false)};
  const std::vector<DecisionStat> weak{stat(0.5, 1, 1, false), stat(0.1, 1, 0, true)};
  util::Rng rng(1);
  PairPick p = pick_pair(strong, weak, SamplingColumn::entropy, rng);
  EXPECT_FALSE(p.chosen);  // a weak hit can never be chosen
  ASSERT_TRUE(p.rejected);
  EXPECT_EQ(p.rejected->variant, Variant::strong);  // tie 0.5 / 0.5: strong first
}

TEST(DistilScene, RandomPickIsUniformOverCandidates) {
  const std::vector<DecisionStat> strong{stat(0.1, 1, 0, true), stat(0.2, 1, 0, true), stat(0.3, 1, 0, true),
                                         stat(0.3, 1, 1, false)};
  const std::vector<DecisionStat> weak{};
  int count[3] = {0, 0, 0};
  for (uint64_t r = 0; r < 30000; ++r) {
    util::Rng rng = util::Rng::stream(5, "t", r);
    ++count[pick_pair(strong, weak, SamplingColumn::random, rng).chosen->index];
  }
  for (int c : count) EXPECT_NEAR(c / 30000.0, 1 / 3.0, 0.02);
}

}  // namespace
}  // namespace um::distil
