// Logits of the engine (f32) equal the independent numpy forward pass for every architecture and
// option on tiny random models.
#include <gtest/gtest.h>

#include "common/shared_data.h"
#include "model/tiny_models.h"

namespace um {
namespace {

struct Case {
  std::string name;
  std::string arch;
  int64_t kv_heads;
  bool tie;
  std::string rope_scaling;
  std::string dtype;  // stored weight dtype
  int64_t head_dim = 0;
  int64_t vocab = 512;
};

class Exactness : public ::testing::TestWithParam<Case> {};

TEST_P(Exactness, MatchesNumpyOracle) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  const Case& c = GetParam();
  auto o = testing::tiny_options(c.arch);
  o.kv_heads = c.kv_heads;
  o.tie_embeddings = c.tie;
  o.rope_scaling = c.rope_scaling;
  o.dtype = c.dtype;
  o.head_dim = c.head_dim;
  o.vocab = c.vocab;
  auto dir = testing::make_tiny_model(o, tok, c.name);
  // Positions past 20 so RoPE rotates every frequency band noticeably.
  std::vector<int32_t> ids;
  for (int i = 0; i < 24; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11) % 500));
  auto m = model::Model::load(dir, {.dtype = model::DType::F32});
  model::Session s(m);
  auto ours = s.append(s.create(), ids, /*all_positions=*/true);
  auto ref = testing::numpy_logits(dir, ids, true);
  ASSERT_EQ(ours.rows, ids.size());
  if (c.vocab > 0) {
    ASSERT_EQ(ours.cols, static_cast<size_t>(c.vocab));
  } else {  // default: the tokenizer's vocabulary including added tokens
    ASSERT_EQ(ours.cols, static_cast<size_t>(model::tokenizer_vocab_size(tok / "tokenizer.json")));
    EXPECT_GT(ours.cols, 151000u);
  }
  EXPECT_LT(testing::max_rel_diff(ours, ref), 1e-4);
  // The logits are not degenerate: the comparison means something.
  float lo = ref.data[0], hi = ref.data[0];
  for (float v : ref.data) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GT(hi - lo, 1.0f);
}

INSTANTIATE_TEST_SUITE_P(AllArchs, Exactness,
                         ::testing::Values(Case{"llama_mha", "llama", 4, false, "", "f32"},
                                           Case{"llama_gqa2_tied", "llama", 2, true, "", "f32"},
                                           Case{"llama_gqa4_rope_llama3", "llama", 1, false, "llama3", "f32"},
                                           Case{"llama_bf16_weights", "llama", 2, false, "llama3", "bf16"},
                                           Case{"qwen2_bias_gqa2", "qwen2", 2, true, "", "f32"},
                                           Case{"qwen2_bias_mha_untied", "qwen2", 4, false, "", "bf16"},
                                           Case{"qwen3_qknorm_gqa2_headdim", "qwen3", 2, true, "", "f32", 32},
                                           Case{"qwen3_qknorm_gqa4", "qwen3", 1, false, "", "bf16"},
                                           Case{"mistral_gqa2", "mistral", 2, false, "", "f32"},
                                           Case{"qwen3_real_vocab", "qwen3", 2, true, "", "bf16", 0, 0}),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace um
