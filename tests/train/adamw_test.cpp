// FlatAdamW against libtorch's torch::optim::AdamW and torch::nn::utils::clip_grad_norm_: same
// updates, same norm, exact resume from its saved state, gradients that autograd replaced instead of
// accumulating in place.
#include "train/detail/adamw.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/shared_data.h"
#include "util/error.h"

namespace um::train {
namespace {

using detail::AdamWHyper;
using detail::FlatAdamW;

// Odd sizes, so tensors end inside a SIMD vector and start at padded offsets of the flat buffer.
std::vector<torch::Tensor> make_params(torch::ScalarType dt) {
  torch::manual_seed(7);
  std::vector<torch::Tensor> out;
  for (auto shape : std::vector<std::vector<int64_t>>{{7, 5}, {13}, {3, 4, 5}, {1}, {33, 17}}) {
    out.push_back(torch::randn(shape, torch::TensorOptions().dtype(dt)).requires_grad_(true));
  }
  return out;
}

std::vector<torch::Tensor> clone_params(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

// A loss whose gradient depends on the parameters and on the step (fixed random weights per step).
torch::Tensor loss_of(const std::vector<torch::Tensor>& ps, int step) {
  torch::Tensor loss = torch::zeros({}, ps[0].options().requires_grad(false));
  for (size_t i = 0; i < ps.size(); ++i) {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(1000 * step + static_cast<int>(i)));
    torch::Tensor w = at::randn(ps[i].sizes(), gen, ps[i].options().requires_grad(false));
    loss = loss + (ps[i] * w).sum() + 0.5 * (ps[i] * ps[i] * ps[i]).sum();
  }
  return loss;
}

double lr_at(int step) { return 1e-2 * (1.0 + 0.1 * step); }

double max_rel_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    torch::Tensor d = (a[i].detach() - b[i].detach()).abs() / b[i].detach().abs().clamp_min(1e-3);
    w = std::max(w, d.max().item<double>());
  }
  return w;
}

struct Case {
  torch::ScalarType dtype;
  double weight_decay;
};

class FlatAdamWVsTorch : public ::testing::TestWithParam<Case> {};

TEST_P(FlatAdamWVsTorch, SameParametersAfterTenSteps) {
  const auto [dt, wd] = GetParam();
  auto ours = make_params(dt);
  auto theirs = clone_params(ours);
  const AdamWHyper h{.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = wd};
  FlatAdamW opt(ours, h);
  torch::optim::AdamW ref(
      theirs, torch::optim::AdamWOptions(lr_at(0)).betas({h.beta1, h.beta2}).eps(h.eps).weight_decay(wd));
  for (size_t i = 0; i < ours.size(); ++i) ASSERT_TRUE(torch::equal(ours[i], theirs[i])) << "values kept";
  for (int s = 0; s < 10; ++s) {
    opt.zero_grad();
    ref.zero_grad();
    loss_of(ours, s).backward();
    loss_of(theirs, s).backward();
    for (auto& g : ref.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr_at(s));
    opt.step(lr_at(s));
    ref.step();
  }
  EXPECT_EQ(opt.steps_done(), 10);
  // The same tensor operations element by element, so the same bits (also in the SIMD tails of the
  // odd-sized tensors, which sit inside the flat buffer's vectors here).
  for (size_t i = 0; i < ours.size(); ++i)
    EXPECT_TRUE(torch::equal(ours[i], theirs[i]))
        << i << " max rel diff " << max_rel_diff({ours[i]}, {theirs[i]});
  // The parameters really moved (the comparison is not vacuous).
  EXPECT_GT(max_rel_diff(ours, make_params(dt)), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(DtypesAndDecay, FlatAdamWVsTorch,
                         ::testing::Values(Case{torch::kFloat, 0.0}, Case{torch::kFloat, 0.05},
                                           Case{torch::kDouble, 0.05}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.dtype == torch::kDouble ? "f64" : "f32") +
                                  (i.param.weight_decay != 0 ? "_decay" : "");
                         });

TEST(FlatAdamW, ClipMatchesTorchClipGradNorm) {
  auto ours = make_params(torch::kFloat);
  auto theirs = clone_params(ours);
  FlatAdamW opt(ours, {});
  for (double max_norm : {0.5, 1e9, std::numeric_limits<double>::infinity()}) {
    opt.zero_grad();
    for (auto& p : theirs) p.mutable_grad() = torch::Tensor();
    loss_of(ours, 3).backward();
    loss_of(theirs, 3).backward();
    const double a = opt.clip_grad_norm(max_norm);
    const double b = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    EXPECT_NEAR(a, b, 1e-6 * b) << max_norm;
    EXPECT_GT(a, 1.0);
    std::vector<torch::Tensor> ga, gb;
    for (size_t i = 0; i < ours.size(); ++i) {
      ga.push_back(ours[i].grad());
      gb.push_back(theirs[i].grad());
    }
    EXPECT_LE(max_rel_diff(ga, gb), 1e-6) << max_norm;
  }
}

TEST(FlatAdamW, GradientsReplacedByAutogradAreUsed) {
  // create_graph=true keeps grad mode on during backward: AccumulateGrad then replaces .grad()
  // with a new tensor instead of adding into the flat buffer.
  auto a = make_params(torch::kFloat);
  auto b = clone_params(a);
  FlatAdamW oa(a, {}), ob(b, {});
  for (int s = 0; s < 3; ++s) {
    oa.zero_grad();
    ob.zero_grad();
    loss_of(a, s).backward();
    loss_of(b, s).backward({}, /*retain_graph=*/true, /*create_graph=*/true);
    b[1].mutable_grad() = torch::Tensor();  // and one gradient dropped: it counts as zero
    a[1].grad().zero_();
    oa.step(1e-2);
    ob.step(1e-2);
  }
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

TEST(FlatAdamW, SavedStateResumesExactly) {
  const AdamWHyper h{.weight_decay = 0.1};
  auto full = make_params(torch::kFloat);
  FlatAdamW of(full, h);
  for (int s = 0; s < 6; ++s) {
    of.zero_grad();
    loss_of(full, s).backward();
    of.step(lr_at(s));
  }
  auto first = make_params(torch::kFloat);
  const auto file = um::testing::temp_dir("train-adamw-state") / "optimizer.pt";
  {
    FlatAdamW o1(first, h);
    for (int s = 0; s < 3; ++s) {
      o1.zero_grad();
      loss_of(first, s).backward();
      o1.step(lr_at(s));
    }
    o1.save(file);
  }
  auto second = clone_params(first);
  FlatAdamW o2(second, h);
  o2.load(file);
  EXPECT_EQ(o2.steps_done(), 3);
  for (int s = 3; s < 6; ++s) {
    o2.zero_grad();
    loss_of(second, s).backward();
    o2.step(lr_at(s));
  }
  for (size_t i = 0; i < full.size(); ++i) EXPECT_TRUE(torch::equal(full[i], second[i])) << i;
  // State of other tensors is refused.
  std::vector<torch::Tensor> other = {torch::zeros({4}, torch::TensorOptions().requires_grad(true))};
  FlatAdamW o3(other, h);
  EXPECT_THROW(o3.load(file), util::Error);
}

TEST(FlatAdamW, RefusesTensorsItCannotFlatten) {
  torch::Tensor base = torch::zeros({8}, torch::TensorOptions().requires_grad(true));
  EXPECT_THROW(FlatAdamW({base, base}, {}), util::Error);         // shared storage
  EXPECT_THROW(FlatAdamW({torch::zeros({3})}, {}), util::Error);  // no grad
  EXPECT_THROW(FlatAdamW({base, torch::zeros({3}, torch::kDouble).requires_grad_(true)}, {}),
               util::Error);  // mixed dtypes
}

}  // namespace
}  // namespace um::train
