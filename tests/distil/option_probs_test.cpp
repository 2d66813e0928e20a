#include "distil/option_probs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace um::distil {
namespace {

TEST(OptionProbs, FloorsMissingLettersAndRenormalises) {
  LetterProbs d;
  d.set(0, 0.5);
  d.set(1, 0.5);  // C is unset
  std::vector<double> p(3);
  prob_vector(d, 3, p);
  const double z = 1.0 + 1e-10;
  EXPECT_DOUBLE_EQ(p[0], 0.5 / z);
  EXPECT_DOUBLE_EQ(p[1], 0.5 / z);
  EXPECT_DOUBLE_EQ(p[2], 1e-10 / z);
}

TEST(OptionProbs, ClipsZerosAndUnnormalisedInput) {
  LetterProbs d;
  d.set(0, 0.0);
  d.set(1, 0.2);
  d.set(2, 0.6);  // sums to 0.8 (vLLM V1 raw logprobs)
  std::vector<double> p(3);
  prob_vector(d, 3, p);
  const double z = 0.8 + 1e-10;
  EXPECT_DOUBLE_EQ(p[0], 1e-10 / z);
  EXPECT_DOUBLE_EQ(p[1], 0.2 / z);
  EXPECT_DOUBLE_EQ(p[2], 0.6 / z);
}

TEST(OptionProbs, EntropyAndLoglossInBits) {
  const std::vector<double> half{0.5, 0.5}, quarter{0.25, 0.25, 0.25, 0.25}, skew{0.75, 0.25};
  EXPECT_DOUBLE_EQ(entropy_bits(half), 1.0);
  EXPECT_DOUBLE_EQ(entropy_bits(quarter), 2.0);
  // −(0.75 log2 0.75 + 0.25 log2 0.25) = 0.811278124459...
  EXPECT_NEAR(entropy_bits(skew), 0.8112781244591328, 1e-15);
  EXPECT_DOUBLE_EQ(logloss_bits(skew, 1), 2.0);
  EXPECT_NEAR(logloss_bits(skew, 0), 0.41503749927884376, 1e-15);
}

TEST(OptionProbs, SamplingFollowsTheDistribution) {
  const std::vector<double> p{0.2, 0.5, 0.3};
  util::Rng rng(7);
  std::vector<int> count(3);
  const int n = 200000;
  for (int i = 0; i < n; ++i) ++count[static_cast<size_t>(sample_option(p, rng))];
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(count[k] / double(n), p[k], 0.005) << k;
}

TEST(OptionProbs, SamplingNeverLeavesTheSupport) {
  // A floored option keeps ~1e-10 mass: in 100k draws it must not appear, and index C never does.
  std::vector<double> p(2);
  LetterProbs d;
  d.set(0, 1.0);
  prob_vector(d, 2, p);
  util::Rng rng(1);
  for (int i = 0; i < 100000; ++i) EXPECT_EQ(sample_option(p, rng), 0);
}

TEST(OptionProbs, ArgMaxCountsTies) {
  const std::vector<double> a{0.1, 0.45, 0.45}, b{0.7, 0.2, 0.1};
  EXPECT_EQ(arg_max(a).index, 1);
  EXPECT_EQ(arg_max(a).ties, 2);
  EXPECT_EQ(arg_max(b).index, 0);
  EXPECT_EQ(arg_max(b).ties, 1);
}

}  // namespace
}  // namespace um::distil
