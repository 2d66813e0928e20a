// SFT / DPO runs on token data: loss decreases, margins grow, resume equals an uninterrupted run,
// exported weights reload through the engine to the module's logits.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "train/train.h"
#include "train/train_fixtures.h"
#include "util/error.h"

namespace um::train {
namespace {

double mean_loss(const std::vector<StepMetrics>& s, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += s[i].loss;
  return sum / static_cast<double>(to - from);
}

TEST(Sft, LossDecreasesAndTheLabelledFirstTokenGainsProbability) {
  auto dir = testing::tiny_train_model("llama", "sft-learn");
  auto data = testing::token_sft_data(48, 512, 11);
  auto o = testing::fast_options(dir, "sft-learn");
  o.steps = 150;
  o.grad_accum = 1;
  o.batch_size = 4;
  o.lr = 3e-3;
  o.warmup_steps = 10;
  o.export_model = true;
  const auto before = sequence_logprobs(dir, data);
  auto r = run_sft_tokens(o, data);
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.steps.size(), 150u);
  EXPECT_LT(mean_loss(r.steps, 130, 150), 0.5 * mean_loss(r.steps, 0, 20));
  const auto after = sequence_logprobs(r.model_out, data);
  double gain = 0;
  for (size_t i = 0; i < data.size(); ++i) gain += after[i] - before[i];
  EXPECT_GT(gain / static_cast<double>(data.size()), 1.0);
  // The answer's first token is 0 (60 %), 1 (30 %) or 2 (10 %): after training the engine's next-token
  // distribution over {0, 1, 2} at the answer position ranks them in that order.
  auto m = model::Model::load(r.model_out, {.dtype = model::DType::F32, .threads = 1});
  model::Session s(m);
  std::vector<double> mean(3, 0.0);
  for (const auto& e : data) {
    size_t p = 0;
    while (!e.target[p]) ++p;
    std::vector<int32_t> prefix(e.ids.begin(), e.ids.begin() + static_cast<long>(p));
    std::vector<int32_t> letters = {0, 1, 2};
    auto sc = model::score_options(s, prefix, letters);
    for (int k = 0; k < 3; ++k)
      mean[static_cast<size_t>(k)] += sc.probs[static_cast<size_t>(k)] / data.size();
  }
  EXPECT_GT(mean[0], mean[1]);
  EXPECT_GT(mean[1], mean[2]);
  EXPECT_GT(mean[0], 0.45);
}

TEST(Sft, ResumeEqualsAnUninterruptedRun) {
  auto dir = testing::tiny_train_model("qwen2", "resume");
  auto data = testing::token_sft_data(10, 512, 3);
  auto base = testing::fast_options(dir, "resume-full");
  base.steps = 9;
  base.lr = 5e-3;
  base.warmup_steps = 3;
  base.weight_decay = 0.05;
  base.max_grad_norm = 1.0;
  base.lora.rank = 4;
  base.lora.dropout = 0.2;
  base.lora.targets = {"q_proj", "v_proj", "gate_proj"};
  auto full = run_sft_tokens(base, data);

  auto split = base;
  split.out_dir = um::testing::temp_dir("train-out-resume-split");
  split.stop_after = 4;
  auto first = run_sft_tokens(split, data);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.steps.size(), 4u);
  split.stop_after = 0;
  split.resume = true;
  auto second = run_sft_tokens(split, data);
  EXPECT_TRUE(second.finished);
  ASSERT_EQ(second.steps.size(), full.steps.size());
  for (size_t i = 0; i < full.steps.size(); ++i) {
    EXPECT_EQ(second.steps[i].loss, full.steps[i].loss) << "step " << i + 1;
    EXPECT_EQ(second.steps[i].grad_norm, full.steps[i].grad_norm) << "step " << i + 1;
  }
  // A checkpoint of another configuration is refused, naming the setting.
  auto other = split;
  other.lr = 1e-3;
  try {
    run_sft_tokens(other, data);
    FAIL() << "expected a fingerprint error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "lr");
  }
}

TEST(Sft, ResumeRefusesACheckpointOfAnotherFormat) {
  auto dir = testing::tiny_train_model("llama", "resume-format");
  auto data = testing::token_sft_data(4, 512, 5);
  auto o = testing::fast_options(dir, "resume-format");
  o.steps = 3;
  o.grad_accum = 1;
  o.stop_after = 1;
  run_sft_tokens(o, data);
  // A checkpoint of the per-tensor torch::optim::AdamW format (version 1).
  const auto state = o.out_dir / "checkpoint" / "state.json";
  auto j = nlohmann::json::parse(std::ifstream(state));
  j["version"] = 1;
  std::ofstream(state) << j.dump();
  o.stop_after = 0;
  o.resume = true;
  try {
    run_sft_tokens(o, data);
    FAIL() << "expected a format error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "version");
  }
}

TEST(Sft, MetricsFileHasEveryStep) {
  auto dir = testing::tiny_train_model("llama", "metrics");
  auto o = testing::fast_options(dir, "metrics");
  o.steps = 3;
  o.grad_accum = 1;
  auto r = run_sft_tokens(o, testing::token_sft_data(4, 512, 2));
  std::ifstream in(o.out_dir / "metrics.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    EXPECT_NE(line.find("\"loss\":"), std::string::npos);
  }
  EXPECT_EQ(n, 3);
  EXPECT_GT(r.steps[0].tokens, r.steps[0].target_tokens);
}

TEST(Dpo, MarginGrowsAndRewardsAreLogged) {
  auto dir = testing::tiny_train_model("qwen3", "dpo");
  auto data = testing::token_pref_data(16, 512, 21);
  auto o = dpo_defaults();
  o.model_dir = dir;
  o.out_dir = um::testing::temp_dir("train-out-dpo");
  o.steps = 24;
  o.grad_accum = 1;
  o.batch_size = 4;
  o.lr = 2e-3;
  o.warmup_steps = 2;
  o.plot = false;
  o.threads = 1;
  DpoOptions d;
  d.beta = 0.1;
  d.label_smoothing = 0.1;
  auto r = run_dpo_tokens(o, d, data);
  ASSERT_EQ(r.steps.size(), 24u);
  // Step 1 runs at the reference weights: rewards are zero and the loss is log 2.
  EXPECT_NEAR(r.steps[0].margin, 0.0, 1e-6);
  EXPECT_NEAR(r.steps[0].loss, std::log(2.0), 1e-6);
  EXPECT_GT(r.steps.back().margin, 0.5);
  EXPECT_GT(r.steps.back().accuracy, 0.99);
  EXPECT_LT(r.steps.back().loss, r.steps[0].loss);
  // The exported policy prefers chosen over rejected more than the reference does.
  std::vector<TokenExample> c, rj;
  for (const auto& p : data) {
    c.push_back(p.chosen);
    rj.push_back(p.rejected);
  }
  auto c0 = sequence_logprobs(dir, c), r0 = sequence_logprobs(dir, rj);
  auto c1 = sequence_logprobs(r.model_out, c), r1 = sequence_logprobs(r.model_out, rj);
  double m0 = 0, m1 = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    m0 += c0[i] - r0[i];
    m1 += c1[i] - r1[i];
  }
  EXPECT_GT(m1 - m0, 5.0 * static_cast<double>(data.size()));
  EXPECT_TRUE(std::filesystem::exists(o.out_dir / "reference_logps.bin"));
}

}  // namespace
}  // namespace um::train
