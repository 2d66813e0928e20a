// option_distribution / log_softmax on hand-computed examples.
#include <gtest/gtest.h>

#include <cmath>

#include "model/model.h"
#include "util/error.h"

namespace um {
namespace {

TEST(OptionDistribution, SoftmaxRestrictedToOptions) {
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 100.0f, std::log(3.0f)};
  // options 0 and 4: e^0 : e^{ln 3} = 1 : 3; the huge logit at id 3 is not an option.
  auto p = model::option_distribution(logits, std::vector<int32_t>{0, 4});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0], 0.25, 1e-7);
  EXPECT_NEAR(p[1], 0.75, 1e-7);
  // Order follows the option list.
  auto q = model::option_distribution(logits, std::vector<int32_t>{4, 0});
  EXPECT_NEAR(q[0], 0.75, 1e-7);
  // Equal logits: uniform; a shift of every logit changes nothing; large values do not overflow.
  std::vector<float> big = {1000.0f, 1000.0f, 1000.0f};
  auto u = model::option_distribution(big, std::vector<int32_t>{0, 1, 2});
  for (double x : u) EXPECT_NEAR(x, 1.0 / 3.0, 1e-7);
  // One -inf option gets zero probability.
  std::vector<float> withinf = {-INFINITY, 0.0f};
  auto z = model::option_distribution(withinf, std::vector<int32_t>{0, 1});
  EXPECT_EQ(z[0], 0.0);
  EXPECT_EQ(z[1], 1.0);
}

TEST(OptionDistribution, RejectsBadInput) {
  std::vector<float> logits = {0.0f, 1.0f};
  EXPECT_THROW(model::option_distribution(logits, std::vector<int32_t>{2}), util::Error);
  EXPECT_THROW(model::option_distribution(logits, std::vector<int32_t>{-1}), util::Error);
  EXPECT_THROW(model::option_distribution(logits, std::vector<int32_t>{}), util::Error);
  std::vector<float> dead = {-INFINITY, -INFINITY};
  EXPECT_THROW(model::option_distribution(dead, std::vector<int32_t>{0, 1}), util::Error);
}

TEST(LogSoftmax, HandComputed) {
  std::vector<float> logits = {std::log(1.0f), std::log(2.0f), std::log(5.0f)};
  auto lp = model::log_softmax(logits);
  EXPECT_NEAR(lp[0], std::log(0.125), 1e-6);
  EXPECT_NEAR(lp[1], std::log(0.25), 1e-6);
  EXPECT_NEAR(lp[2], std::log(0.625), 1e-6);
}

}  // namespace
}  // namespace um
