// Sampling pieces by hand, and generation: greedy deterministic and equal to step-by-step argmax,
// seeded sampling reproducible per sample, stop ids / stop_check / max_tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "common/shared_data.h"
#include "model/tiny_models.h"
#include "util/error.h"

namespace um {
namespace {

TEST(Sampling, PiecesByHand) {
  std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)};
  EXPECT_EQ(model::argmax(logits), 3);
  std::vector<float> tie = {1.0f, 2.0f, 2.0f};
  EXPECT_EQ(model::argmax(tie), 1);

  auto c = model::candidates(logits);
  model::top_k(c, 0);
  model::softmax(c);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].id, 3);
  EXPECT_NEAR(c[0].p, 0.4, 1e-6);
  EXPECT_NEAR(c[3].p, 0.1, 1e-6);
  auto p = c;
  model::top_p(p, 0.65);  // 0.4 + 0.3 >= 0.65
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0].p, 0.4 / 0.7, 1e-6);
  auto m = c;
  model::min_p(m, 0.6);  // keep p >= 0.24: 0.4, 0.3
  EXPECT_EQ(m.size(), 2u);
  auto k = model::candidates(logits);
  model::top_k(k, 1);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].id, 3);
  auto t = model::candidates(logits);
  model::apply_temperature(t, 0.5);  // p ∝ p_i^2: 1,4,9,16 / 30
  model::top_k(t, 0);
  model::softmax(t);
  EXPECT_NEAR(t[0].p, 16.0 / 30.0, 1e-6);

  // draw follows the distribution (frequencies over many draws).
  util::Rng rng(1);
  std::map<int32_t, int> hist;
  for (int i = 0; i < 20000; ++i) ++hist[model::draw(c, rng)];
  EXPECT_NEAR(hist[3] / 20000.0, 0.4, 0.02);
  EXPECT_NEAR(hist[0] / 20000.0, 0.1, 0.02);
  // temperature 0 = greedy
  EXPECT_EQ(model::sample(logits, {.temperature = 0.0}, rng), 3);
}

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
    auto o = testing::tiny_options("llama");
    o.kv_heads = 2;
    if (!dir_) dir_ = std::make_unique<std::filesystem::path>(testing::make_tiny_model(o, tok, "generate"));
    m_ = model::Model::load(*dir_, {.dtype = model::DType::F32});
  }
  static inline std::unique_ptr<std::filesystem::path> dir_;
  std::shared_ptr<const model::Model> m_;
};

TEST_F(GenerateTest, GreedyIsDeterministicAndEqualsStepwiseArgmax) {
  std::vector<int32_t> prompt = {5, 17, 230, 41, 99};
  model::Session s(m_);
  model::GenerateOptions o;
  o.n = 3;
  o.max_tokens = 12;
  o.sampling.temperature = 0.0;
  o.stop_ids = {-1};  // never stops on a token: length-limited
  auto a = model::generate(s, prompt, o);
  ASSERT_EQ(a.size(), 3u);
  for (const auto& c : a) {
    EXPECT_EQ(c.tokens, a[0].tokens);
    EXPECT_EQ(c.finish_reason, "length");
    EXPECT_EQ(c.tokens.size(), 12u);
  }
  // Reference: plain step-by-step argmax.
  model::Session plain(m_, 0);
  auto seq = plain.create();
  auto l = plain.append(seq, prompt);
  std::vector<int32_t> want;
  for (int i = 0; i < 12; ++i) {
    int32_t t = model::argmax(l.row(0));
    want.push_back(t);
    l = plain.append(seq, std::vector<int32_t>{t});
  }
  EXPECT_EQ(a[0].tokens, want);
  EXPECT_EQ(s.live_sequences(), 0u);
}

TEST_F(GenerateTest, SeededSamplingIsReproduciblePerSample) {
  std::vector<int32_t> prompt = {8, 9, 10};
  model::GenerateOptions o;
  o.n = 4;
  o.max_tokens = 10;
  o.sampling = {.temperature = 1.5, .top_k = 50, .top_p = 0.95, .min_p = 0.01};
  o.seed = 1234;
  o.stop_ids = {-1};
  model::Session s1(m_), s2(m_);
  auto a = model::generate(s1, prompt, o);
  auto b = model::generate(s2, prompt, o);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].tokens, b[i].tokens);
  // Samples differ from each other (high temperature over a 512 vocabulary).
  EXPECT_NE(a[0].tokens, a[1].tokens);
  // Sample i does not depend on how many samples were requested.
  o.n = 2;
  auto c = model::generate(s1, prompt, o);
  EXPECT_EQ(c[0].tokens, a[0].tokens);
  EXPECT_EQ(c[1].tokens, a[1].tokens);
  o.seed = 99;
  auto d = model::generate(s1, prompt, o);
  EXPECT_NE(d[0].tokens, a[0].tokens);
}

TEST_F(GenerateTest, StopIdsAndStopCheck) {
  std::vector<int32_t> prompt = {5, 17, 230, 41, 99};
  model::Session s(m_);
  model::GenerateOptions o;
  o.sampling.temperature = 0.0;
  o.max_tokens = 12;
  o.stop_ids = {-1};
  auto free_run = model::generate(s, prompt, o)[0].tokens;
  ASSERT_EQ(free_run.size(), 12u);
  // Stopping on the 4th greedy token: output holds the 3 before it.
  o.stop_ids = {free_run[3]};
  auto stopped = model::generate(s, prompt, o)[0];
  auto first_stop = std::find(free_run.begin(), free_run.end(), free_run[3]) - free_run.begin();
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(stopped.tokens, std::vector<int32_t>(free_run.begin(), free_run.begin() + first_stop));
  // stop_check (the hook for stop strings) cuts after the 5th token and keeps 4.
  o.stop_ids = {-1};
  o.stop_check = [](size_t, const std::vector<int32_t>& t) -> int64_t { return t.size() == 5 ? 4 : -1; };
  auto cut = model::generate(s, prompt, o)[0];
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.tokens, std::vector<int32_t>(free_run.begin(), free_run.begin() + 4));
}

}  // namespace
}  // namespace um
