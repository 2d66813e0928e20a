// The AVX-512 BF16 small-batch kernel against a double-precision reference of the same bf16 inputs:
// every shape class (one x row, 2-4, 5-8, more than one x tile, weight-row tails, K not a multiple
// of 32) and fused outputs. Each result must be the reference rounded to bf16, give or take one ulp
// (the f32 accumulation order differs from a sequential sum).
#include "model/detail/small_batch_linear.h"

#include <gtest/gtest.h>

#include <cmath>

namespace um::model::detail {
namespace {

// Distance in bf16 units of last place between a and b (same sign assumed near zero).
double bf16_ulps(float got, double want) {
  const double ulp = std::ldexp(1.0, std::ilogb(std::max(std::abs(want), 1e-30)) - 7);
  return std::abs(double(got) - want) / ulp;
}

void check(int64_t M, int64_t K, const std::vector<int64_t>& Ns, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::randn({M, K}).to(at::kBFloat16);
  std::vector<at::Tensor> ws, ys;
  for (int64_t N : Ns) {
    ws.push_back(at::randn({N, K}).to(at::kBFloat16));
    ys.push_back(at::full({M, N}, 7.0, at::kBFloat16));  // not zero: the kernel must write every element
  }
  std::vector<SmallBatchOutput> outs;
  for (size_t i = 0; i < ws.size(); ++i) outs.push_back({&ws[i], &ys[i]});
  ASSERT_TRUE(small_batch_qualifies(x, ws[0]));
  small_batch_linear(x, outs);
  at::Tensor xd = x.to(at::kDouble);
  for (size_t i = 0; i < ws.size(); ++i) {
    at::Tensor want = at::mm(xd, ws[i].to(at::kDouble).t()).contiguous();
    at::Tensor got = ys[i].to(at::kFloat).contiguous();
    const double* wp = want.data_ptr<double>();
    const float* gp = got.data_ptr<float>();
    double worst = 0;
    for (int64_t j = 0; j < want.numel(); ++j) worst = std::max(worst, bf16_ulps(gp[j], wp[j]));
    EXPECT_LE(worst, 1.0) << "M=" << M << " K=" << K << " N=" << Ns[i];
  }
}

class SmallBatchLinearTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!small_batch_kernel_available())
      GTEST_SKIP() << "this CPU has no AVX-512 BF16 (or UM_NO_DECODE_KERNELS is set)";
  }
};

TEST_F(SmallBatchLinearTest, MatchesReferenceForEveryTileShape) {
  uint64_t seed = 1;
  for (int64_t M : {1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 33, 64}) {
    for (int64_t K : {32, 64, 96, 100}) check(M, K, {67}, seed++);
  }
}

TEST_F(SmallBatchLinearTest, FusedOutputsAndManyTasks) {
  check(1, 896, {896, 128, 128}, 11);  // q/k/v of the 0.5B shape
  check(10, 160, {300, 1}, 12);        // more rows than one task; a one-row output
}

TEST_F(SmallBatchLinearTest, QualifiesOnlyForSmallBf16ContiguousInputs) {
  at::Tensor w = at::zeros({8, 32}, at::kBFloat16);
  EXPECT_TRUE(small_batch_qualifies(at::zeros({kSmallBatchMaxRows, 32}, at::kBFloat16), w));
  EXPECT_FALSE(small_batch_qualifies(at::zeros({kSmallBatchMaxRows + 1, 32}, at::kBFloat16), w));
  EXPECT_FALSE(small_batch_qualifies(at::zeros({1, 32}, at::kFloat), w));
  EXPECT_FALSE(small_batch_qualifies(at::zeros({1, 31}, at::kBFloat16), w));
  EXPECT_FALSE(small_batch_qualifies(at::zeros({32, 2}, at::kBFloat16).t(), w));
}

}  // namespace
}  // namespace um::model::detail
