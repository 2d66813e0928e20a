// Continuous batching (backend/embedded) decodes the sequences of many requests in one step. A
// seeded request answers the same under load only if a row of a batched decode step does not depend
// on the other rows: model::independent_decode_rows says up to how many rows that holds, and these
// tests check it bit for bit (rows at different cache lengths, batch sizes up to that bound) and
// drive several model::Generation objects through shared steps.
#include <gtest/gtest.h>

#include <cstring>

#include "common/shared_data.h"
#include "model/detail/small_batch_linear.h"
#include "model/tiny_models.h"

namespace um {
namespace {

class DecodeRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
    auto o = testing::tiny_options("qwen3");
    o.kv_heads = 2;
    if (!dir_)
      dir_ = std::make_unique<std::filesystem::path>(testing::make_tiny_model(o, tok, "decode-rows"));
  }
  static std::vector<int32_t> ids(int n, int salt) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 61 + salt * 13 + 7) % 509));
    return v;
  }
  static inline std::unique_ptr<std::filesystem::path> dir_;
};

TEST_F(DecodeRowsTest, BatchedRowsEqualTheRowAloneUpToTheBound) {
  for (auto dtype : {model::DType::F32, model::DType::BF16}) {
    SCOPED_TRACE(model::dtype_name(dtype));
    auto m = model::Model::load(*dir_, {.dtype = dtype});
    const size_t bound = model::independent_decode_rows(*m);
    // bf16 with the AVX-512 BF16 kernels: the fused step; otherwise libtorch's GEMMs, whose sum
    // order depends on the row count (measured: most rows of a batched f32 step differ in the last
    // bits), so only single rows are guaranteed.
    const bool fused = dtype == model::DType::BF16 && model::detail::small_batch_kernel_available();
    EXPECT_EQ(bound, fused ? static_cast<size_t>(model::detail::kSmallBatchMaxRows) : 1u);
    model::Session s(m, 0);
    std::vector<model::SeqId> base;
    for (size_t i = 0; i < bound; ++i) {
      base.push_back(s.create());
      s.append(base.back(), ids(2 + static_cast<int>(i % 23), static_cast<int>(i)));
    }
    size_t rows = 0, differ = 0;
    for (size_t b : {size_t{1}, size_t{2}, size_t{5}, size_t{16}, bound}) {
      if (b > bound) continue;
      std::vector<model::Append> step;
      for (size_t i = 0; i < b; ++i)
        step.push_back({s.fork(base[i]), {static_cast<int32_t>(300 + i)}, false});
      auto got = s.append_batch(step);
      for (size_t i = 0; i < b; ++i) {
        model::SeqId one = s.fork(base[i]);
        auto want = s.append(one, std::vector<int32_t>{static_cast<int32_t>(300 + i)});
        ++rows;
        differ += std::memcmp(got.row(i).data(), want.row(0).data(), want.cols * sizeof(float)) != 0;
        s.release(one);
        s.release(step[i].seq);
      }
    }
    EXPECT_GT(rows, 0u);
    EXPECT_EQ(differ, 0u) << differ << " of " << rows << " rows differ";
  }
}

// Generations of different prompts, sample counts, lengths and sampling settings decoded in shared
// steps (each joining at a different step) produce exactly what generate() produces for each alone.
TEST_F(DecodeRowsTest, GenerationsInSharedStepsEqualGenerateAlone) {
  auto m = model::Model::load(*dir_, {.dtype = model::DType::BF16});
  if (model::independent_decode_rows(*m) < 8)
    GTEST_SKIP()
        << "decode rows depend on the batch here (no AVX-512 BF16): requests are not batched together";
  std::vector<std::vector<int32_t>> prompts;
  std::vector<model::GenerateOptions> opts(4);
  for (int i = 0; i < 4; ++i) {
    prompts.push_back(ids(5 + 7 * i, 40 + i));
    opts[static_cast<size_t>(i)].n = 1 + i % 3;
    opts[static_cast<size_t>(i)].max_tokens = 4 + 3 * i;
    opts[static_cast<size_t>(i)].seed = 17 + static_cast<uint64_t>(i);
    opts[static_cast<size_t>(i)].sampling = {.temperature = i == 0 ? 0.0 : 0.9, .top_p = i == 2 ? 0.8 : 1.0};
    opts[static_cast<size_t>(i)].top_logprobs = i == 1 ? 3 : -1;
    opts[static_cast<size_t>(i)].ignore_eos = true;
  }
  std::vector<std::vector<model::Completion>> alone;
  {
    model::Session s(m, 4);
    for (size_t i = 0; i < prompts.size(); ++i) alone.push_back(model::generate(s, prompts[i], opts[i]));
  }
  model::Session s(m, 4);
  std::vector<std::unique_ptr<model::Generation>> gens(prompts.size());
  std::vector<std::vector<model::Completion>> got(prompts.size());
  size_t started = 0, steps = 0;
  while (true) {
    if (started < prompts.size()) {  // one more joins at every step boundary
      gens[started] = std::make_unique<model::Generation>(s, prompts[started], opts[started]);
      ++started;
    }
    std::vector<model::Append> step;
    std::vector<size_t> first(gens.size(), 0);
    for (size_t i = 0; i < gens.size(); ++i) {
      if (!gens[i]) continue;
      first[i] = step.size();
      gens[i]->add_to_step(step);
    }
    if (step.empty() && started == prompts.size()) break;
    if (!step.empty()) {
      auto l = s.append_batch(step);
      ++steps;
      for (size_t i = 0; i < gens.size(); ++i) {
        if (gens[i] && !gens[i]->done()) gens[i]->take_step(l, first[i]);
      }
    }
    for (size_t i = 0; i < gens.size(); ++i) {
      if (gens[i] && gens[i]->done()) {
        got[i] = gens[i]->take_result();
        gens[i].reset();
      }
    }
  }
  EXPECT_GT(steps, 5u);
  EXPECT_EQ(s.live_sequences(), 0u);
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_EQ(got[i].size(), alone[i].size()) << i;
    for (size_t k = 0; k < alone[i].size(); ++k) {
      EXPECT_EQ(got[i][k].tokens, alone[i][k].tokens) << i << "/" << k;
      EXPECT_EQ(got[i][k].finish_reason, alone[i][k].finish_reason);
      ASSERT_EQ(got[i][k].logprobs.size(), alone[i][k].logprobs.size());
      for (size_t t = 0; t < alone[i][k].logprobs.size(); ++t) {
        EXPECT_EQ(got[i][k].logprobs[t].logprob, alone[i][k].logprobs[t].logprob);
        EXPECT_EQ(got[i][k].logprobs[t].top, alone[i][k].logprobs[t].top);
      }
    }
  }
}

// Prompts prefilled together (Session::prefill_cached_together, what the embedded backend does for
// requests joining a batch at the same step) give the sequences and logits each gives alone with
// prefill_cached, bit for bit, where model::prefill_together_exact says so: the last-position logits,
// the logits of a decode step after it, and the prefix cache's reuse (a prompt longer than a block
// whose first block is cached, and one with a split).
TEST_F(DecodeRowsTest, PrefillTogetherEqualsPrefillAlone) {
  auto m = model::Model::load(*dir_, {.dtype = model::DType::BF16});
  std::vector<std::vector<int32_t>> prompts = {ids(5, 1), ids(17, 2), ids(2, 3), ids(140, 4), ids(30, 5)};
  std::vector<size_t> splits = {0, 0, 0, 0, 21};
  // prompt 3 begins with a cached block: it shares its first 128 tokens with the warm-up prompt.
  std::vector<int32_t> warm(prompts[3].begin(), prompts[3].begin() + 129);
  std::vector<size_t> rows;
  for (size_t i = 0; i < prompts.size(); ++i)
    rows.push_back(model::Session::last_block_rows(prompts[i].size(), splits[i]));
  EXPECT_EQ(rows, (std::vector<size_t>{5, 17, 2, 12, 9}));
  EXPECT_FALSE(model::prefill_together_exact(*m, std::vector<size_t>{1, 5}));   // a 1-row block
  EXPECT_FALSE(model::prefill_together_exact(*m, std::vector<size_t>{60, 5}));  // over 64 rows
  if (!model::prefill_together_exact(*m, rows)) {
    EXPECT_EQ(model::prefill_runs(*m, rows), (std::vector<size_t>{1, 2, 3, 4, 5}));  // each alone
    GTEST_SKIP() << "forward rows depend on the batch here (no AVX-512 BF16): prompts are prefilled alone";
  }
  // Runs as long as the rule allows, in order: a 1-row block and anything past 64 rows start anew.
  EXPECT_EQ(model::prefill_runs(*m, rows), (std::vector<size_t>{5}));
  EXPECT_EQ(model::prefill_runs(*m, std::vector<size_t>{1, 5, 30, 30, 20, 1}),
            (std::vector<size_t>{1, 3, 5, 6}));

  auto run = [&](bool together) {
    model::Session s(m, 4);
    model::Logits w;
    s.release(s.prefill_cached(warm, &w));
    std::vector<model::SeqId> seqs;
    std::vector<std::vector<float>> first;
    if (together) {
      std::vector<model::Session::PrefillPrompt> ps;
      for (size_t i = 0; i < prompts.size(); ++i) ps.push_back({prompts[i], splits[i]});
      model::Logits l;
      seqs = s.prefill_cached_together(ps, &l);
      EXPECT_EQ(l.rows, prompts.size());
      for (size_t i = 0; i < prompts.size(); ++i) first.emplace_back(l.row(i).begin(), l.row(i).end());
    } else {
      for (size_t i = 0; i < prompts.size(); ++i) {
        model::Logits l;
        seqs.push_back(s.prefill_cached(prompts[i], &l, splits[i]));
        first.emplace_back(l.row(0).begin(), l.row(0).end());
      }
    }
    EXPECT_EQ(s.prefix_cache_hits(), 1u);  // prompt 3's first block
    // One decode step for all of them: reads every position's K/V.
    std::vector<model::Append> step;
    for (size_t i = 0; i < seqs.size(); ++i)
      step.push_back({seqs[i], {static_cast<int32_t>(400 + i)}, false});
    model::Logits next = s.append_batch(step);
    for (size_t i = 0; i < seqs.size(); ++i) first.emplace_back(next.row(i).begin(), next.row(i).end());
    for (auto q : seqs) s.release(q);
    return first;
  };
  const auto alone = run(false), together = run(true);
  ASSERT_EQ(alone.size(), together.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_EQ(std::memcmp(alone[i].data(), together[i].data(), alone[i].size() * sizeof(float)), 0)
        << "row " << i << (i < prompts.size() ? " (prefill)" : " (decode step)");
  }
}

}  // namespace
}  // namespace um
