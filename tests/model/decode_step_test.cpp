// The fused bf16 decode step (model/detail/decode_step.h) against the per-operator libtorch path in
// the same process, for every architecture option it handles (q/k/v bias, q/k RMSNorm, GQA, tied and
// untied embeddings): decode steps of a batch of sequences with different cache lengths give the
// same logits. Both paths round at the same points, so the steps are bit-identical (with these seeds
// and this libm: an f32 sum order in RMSNorm's mean or an exp inside SiLU could in principle move one
// bf16 rounding, which would show as a tiny difference within the tolerance).
#include "model/detail/decode_step.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/shared_data.h"
#include "model/detail/small_batch_linear.h"
#include "model/tiny_models.h"

namespace um {
namespace {

struct Case {
  const char* arch;
  int64_t heads, kv_heads;
  bool tied;
};

class DecodeStepTest : public ::testing::TestWithParam<Case> {};

// Per decode step: the logits of `batch` sequences after prefilling prompts of different lengths.
std::vector<model::Logits> run(const std::shared_ptr<const model::Model>& m, bool fused, int steps) {
  const bool before = model::detail::set_fused_decode_enabled(fused);
  model::Session s(m, 0);
  std::vector<model::SeqId> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(s.create());
    std::vector<int32_t> prompt;
    for (int t = 0; t < 5 + 9 * i; ++t) prompt.push_back((t * 37 + i * 11 + 3) % 509);
    s.append(seqs.back(), prompt);
  }
  std::vector<model::Logits> out;
  for (int t = 0; t < steps; ++t) {
    std::vector<model::Append> step;
    for (size_t i = 0; i < seqs.size(); ++i)
      step.push_back({seqs[i], {static_cast<int32_t>(100 + 7 * t + i)}, false});
    out.push_back(s.append_batch(step));
  }
  // One sequence alone (batch 1) as well.
  out.push_back(s.append(seqs[1], std::vector<int32_t>{42}));
  model::detail::set_fused_decode_enabled(before);
  return out;
}

TEST_P(DecodeStepTest, FusedStepEqualsPerOperatorPath) {
  if (!model::detail::small_batch_kernel_available())
    GTEST_SKIP() << "no AVX-512 BF16 on this CPU (or UM_NO_DECODE_KERNELS set): the fused step is not used";
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  const Case c = GetParam();
  auto o = testing::tiny_options(c.arch);
  o.heads = c.heads;
  o.kv_heads = c.kv_heads;
  o.tie_embeddings = c.tied;
  o.layers = 3;
  auto dir = testing::make_tiny_model(o, tok, std::string("decode-step-") + c.arch);
  auto m = model::Model::load(dir, {.dtype = model::DType::BF16});
  ASSERT_TRUE(m->impl().fused_decode_weights) << "the fused step would not run: nothing compared";
  auto fused = run(m, true, 8), plain = run(m, false, 8);
  ASSERT_EQ(fused.size(), plain.size());
  size_t identical = 0;
  for (size_t t = 0; t < fused.size(); ++t) {
    ASSERT_EQ(fused[t].rows, plain[t].rows);
    EXPECT_LT(testing::max_rel_diff(fused[t], plain[t]), 3e-2) << "step " << t;
    identical +=
        std::memcmp(fused[t].data.data(), plain[t].data.data(), fused[t].data.size() * sizeof(float)) == 0;
  }
  EXPECT_EQ(identical, fused.size()) << identical << " of " << fused.size() << " steps bit-identical";
}

INSTANTIATE_TEST_SUITE_P(Archs, DecodeStepTest,
                         ::testing::Values(Case{"qwen2", 4, 2, true}, Case{"qwen3", 4, 2, false},
                                           Case{"llama", 4, 1, false}, Case{"mistral", 4, 4, true}),
                         [](const auto& p) { return std::string(p.param.arch); });

}  // namespace
}  // namespace um
