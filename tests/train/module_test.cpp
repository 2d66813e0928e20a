// The training module against the engine (same function), finite differences, LoRA and activation
// checkpointing.
#include <gtest/gtest.h>

#include <cmath>

#include "common/shared_data.h"
#include "train/detail/artifacts.h"
#include "train/detail/causal_lm.h"
#include "train/detail/trainer.h"
#include "train/train_fixtures.h"

namespace um::train {
namespace {

using detail::CausalLM;
using detail::LmOptions;

std::vector<int32_t> sample_ids(int64_t vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 19; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
  return ids;
}

// All-position logits of the module for one sequence, as a flat vector.
std::vector<float> module_logits(const CausalLM& m, const std::vector<int32_t>& ids) {
  torch::NoGradGuard ng;
  std::vector<int64_t> v(ids.begin(), ids.end());
  torch::Tensor t = torch::tensor(v, torch::kLong).unsqueeze(0);
  torch::Tensor l = m.logits(m.hidden(t)).squeeze(0).to(torch::kFloat).contiguous();
  return {l.data_ptr<float>(), l.data_ptr<float>() + l.numel()};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double w = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) w = std::max(w, std::abs(double(a[i]) - b[i]));
  return w;
}

class ModuleArch : public ::testing::TestWithParam<std::string> {};

TEST_P(ModuleArch, LogitsEqualTheEngine) {
  auto dir = testing::tiny_train_model(GetParam(), "parity-" + GetParam());
  CausalLM m(dir, LmOptions{});
  auto ids = sample_ids(m.config().vocab_size);
  auto ours = module_logits(m, ids);
  auto engine = testing::engine_logits(dir, ids);
  EXPECT_LT(max_abs_diff(ours, engine.data), 2e-5);
}

INSTANTIATE_TEST_SUITE_P(Archs, ModuleArch, ::testing::Values("llama", "qwen2", "qwen3", "mistral"));

TEST(Module, BatchPaddingDoesNotChangeRows) {
  auto dir = testing::tiny_train_model("qwen3", "padding");
  CausalLM m(dir, LmOptions{});
  auto data = testing::token_sft_data(3, 512, 5);
  torch::NoGradGuard ng;
  auto [ids, tgt] = detail::collate({&data[0], &data[1], &data[2]});
  torch::Tensor batched = detail::target_logprobs(m, ids, tgt);
  for (int i = 0; i < 3; ++i) {
    auto [a, b] = detail::collate({&data[static_cast<size_t>(i)]});
    EXPECT_NEAR(detail::target_logprobs(m, a, b).item<double>(), batched[i].item<double>(), 1e-4);
  }
}

// Central differences in float64 against autograd for weights of every kind.
TEST(Module, GradientsMatchFiniteDifferences) {
  auto dir = testing::tiny_train_model("qwen2", "fd", 128, 2);  // qkv biases too
  LmOptions lo;
  lo.master = torch::kDouble;
  lo.compute = torch::kDouble;
  lo.lora.rank = 2;
  lo.lora.targets = {"q_proj", "down_proj"};
  CausalLM m(dir, lo);
  // Make the adapters non-zero so both A and B have gradients; train all weights for the check.
  for (auto& [name, t] : m.named_parameters()) {
    torch::NoGradGuard ng;
    if (name.find("lora_B") != std::string::npos) t.copy_(torch::randn_like(t) * 0.1);
    t.requires_grad_(true);
  }
  auto data = testing::token_sft_data(2, 128, 9);
  auto [ids, tgt] = detail::collate({&data[0], &data[1]});
  auto loss_fn = [&] { return -detail::target_logprobs(m, ids, tgt).sum(); };
  torch::Tensor loss = loss_fn();
  loss.backward();
  int checked = 0;
  for (auto& [name, t] : m.named_parameters()) {
    const bool pick = name.find("embed") != std::string::npos ||
                      name.find("layers.1.self_attn.q_proj") != std::string::npos ||
                      name.find("k_proj.bias") != std::string::npos ||
                      name.find("input_layernorm") != std::string::npos ||
                      name.find("lora_A") != std::string::npos || name.find("lora_B") != std::string::npos ||
                      name == "model.norm.weight" || name == "lm_head.weight";
    if (!pick) continue;
    torch::Tensor flat = t.view({-1});
    torch::Tensor g = t.grad().view({-1});
    for (int64_t k : {int64_t{0}, t.numel() / 2, t.numel() - 1}) {
      if (name.find("embed") != std::string::npos) k = ids[0][3].item<int64_t>() * t.size(1) + k % t.size(1);
      const double h = 1e-6;
      double orig;
      double up, down;
      {
        torch::NoGradGuard ng;
        orig = flat[k].item<double>();
        flat[k] = orig + h;
        up = loss_fn().item<double>();
        flat[k] = orig - h;
        down = loss_fn().item<double>();
        flat[k] = orig;
      }
      const double fd = (up - down) / (2 * h), ad = g[k].item<double>();
      EXPECT_NEAR(ad, fd, 1e-6 * std::max(1.0, std::abs(fd))) << name << "[" << k << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 24);
}

TEST(Module, LoraTrainsOnlyAdapters) {
  auto dir = testing::tiny_train_model("llama", "lora-only");
  LmOptions lo;
  lo.lora.rank = 4;
  lo.lora.targets = {"q_proj", "v_proj", "up_proj"};
  CausalLM m(dir, lo);
  const auto& c = m.config();
  int64_t expected = 0;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    expected += 4 * (c.hidden_size + c.num_heads * c.head_dim);     // q
    expected += 4 * (c.hidden_size + c.num_kv_heads * c.head_dim);  // v
    expected += 4 * (c.hidden_size + c.intermediate_size);          // up
  }
  int64_t trainable = 0;
  for (auto& t : m.trainable()) trainable += t.numel();
  EXPECT_EQ(trainable, expected);
  for (auto& [name, t] : m.named_parameters()) {
    EXPECT_EQ(t.requires_grad(), name.find(".lora_") != std::string::npos) << name;
  }
  // A full run changes only adapter tensors: the merged model differs, the base weights do not.
  auto o = testing::fast_options(dir, "lora-only");
  o.lora = lo.lora;
  o.steps = 5;
  o.lr = 1e-2;
  o.grad_accum = 1;
  auto r = run_sft_tokens(o, testing::token_sft_data(8, 512, 1));
  EXPECT_EQ(r.trainable_params, expected);
  std::vector<torch::Tensor> saved;
  torch::load(saved, (o.out_dir / "checkpoint" / "trainable.pt").string());
  EXPECT_EQ(saved.size(), 2u * 3u * static_cast<size_t>(c.num_layers));
}

TEST(Module, MergedExportReloadsThroughTheEngine) {
  auto dir = testing::tiny_train_model("qwen3", "merge");
  LmOptions lo;
  lo.lora.rank = 3;
  lo.lora.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  CausalLM m(dir, lo);
  {
    torch::NoGradGuard ng;
    for (auto& [name, t] : m.named_parameters()) {
      if (name.find("lora_B") != std::string::npos) t.copy_(torch::randn_like(t) * 0.2);
    }
  }
  m.set_training(false);
  auto out = um::testing::temp_dir("train-merge-export");
  detail::export_hf(m, dir, out, "f32");
  auto ids = sample_ids(m.config().vocab_size);
  auto ours = module_logits(m, ids);
  auto engine = testing::engine_logits(out, ids);
  EXPECT_LT(max_abs_diff(ours, engine.data), 2e-5);
  CausalLM base(dir, LmOptions{});
  EXPECT_GT(max_abs_diff(module_logits(base, ids), engine.data), 1e-3);  // the adapters mattered
  EXPECT_TRUE(std::filesystem::exists(out / "tokenizer.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "generation_config.json"));
}

TEST(Module, ActivationCheckpointingGivesTheSameGradients) {
  auto dir = testing::tiny_train_model("llama", "ckpt");
  auto data = testing::token_sft_data(2, 512, 4);
  auto [ids, tgt] = detail::collate({&data[0], &data[1]});
  std::vector<std::vector<torch::Tensor>> grads;
  for (bool ck : {false, true}) {
    LmOptions lo;
    lo.activation_checkpointing = ck;
    lo.lora.rank = 2;
    lo.lora.dropout = 0.3;  // recomputation must replay the same dropout masks
    CausalLM m(dir, lo);
    torch::manual_seed(123);
    (-detail::target_logprobs(m, ids, tgt).sum()).backward();
    std::vector<torch::Tensor> g;
    for (auto& t : m.trainable()) g.push_back(t.grad().clone());
    grads.push_back(g);
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_TRUE(torch::allclose(grads[0][i], grads[1][i], 1e-5, 1e-7)) << i;
  }
}

TEST(Schedule, CosineWithWarmup) {
  EXPECT_DOUBLE_EQ(detail::cosine_with_warmup(0, 10, 100), 0.0);
  EXPECT_DOUBLE_EQ(detail::cosine_with_warmup(5, 10, 100), 0.5);
  EXPECT_DOUBLE_EQ(detail::cosine_with_warmup(10, 10, 100), 1.0);
  EXPECT_NEAR(detail::cosine_with_warmup(55, 10, 100), 0.5, 1e-12);
  EXPECT_NEAR(detail::cosine_with_warmup(100, 10, 100), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(detail::cosine_with_warmup(0, 0, 10), 1.0);
}

}  // namespace
}  // namespace um::train
