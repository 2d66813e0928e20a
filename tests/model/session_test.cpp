// KV-cache and sequence operations: incremental decoding equals full recomputation, batches equal
// single sequences, fork/truncate/release behave, prefix-shared scoring equals unshared.
#include <gtest/gtest.h>

#include <cstring>

#include "common/shared_data.h"
#include "model/tiny_models.h"
#include "util/error.h"

namespace um {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
    auto o = testing::tiny_options("qwen3");
    o.kv_heads = 2;
    if (!dir_) dir_ = std::make_unique<std::filesystem::path>(testing::make_tiny_model(o, tok, "session"));
    m_ = model::Model::load(*dir_, {.dtype = model::DType::F32});
  }
  static std::vector<int32_t> ids(int n, int salt = 0) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 53 + salt * 17 + 5) % 509));
    return v;
  }
  static void expect_close(std::span<const float> a, std::span<const float> b, double tol = 2e-5) {
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (std::abs(b[i]) + 1.0));
    EXPECT_LT(worst, tol);
  }
  static inline std::unique_ptr<std::filesystem::path> dir_;
  std::shared_ptr<const model::Model> m_;
};

TEST_F(SessionTest, IncrementalDecodeEqualsFullRecomputation) {
  model::Session s(m_, 0);
  auto all = ids(40);
  auto full = s.append(s.create(), all, true);
  model::SeqId seq = s.create();
  // 300+ tokens would cross the attention block size; here: prefill 13, then one token at a time.
  auto first = s.append(seq, std::span<const int32_t>(all).subspan(0, 13));
  expect_close(first.row(0), full.row(12));
  for (size_t t = 13; t < all.size(); ++t) {
    auto step = s.append(seq, std::span<const int32_t>(all).subspan(t, 1));
    expect_close(step.row(0), full.row(t));
  }
  EXPECT_EQ(s.tokens(seq), all);
}

TEST_F(SessionTest, LongPrefillCrossesAttentionBlocks) {
  model::Session s(m_, 0);
  auto all = ids(600);
  auto full = s.append(s.create(), all, true);
  model::SeqId seq = s.create();
  s.append(seq, std::span<const int32_t>(all).subspan(0, 300));
  auto rest = s.append(seq, std::span<const int32_t>(all).subspan(300), true);
  for (size_t r = 0; r < rest.rows; r += 37) expect_close(rest.row(r), full.row(300 + r));
  expect_close(rest.row(rest.rows - 1), full.row(599));
}

TEST_F(SessionTest, BatchEqualsSingle) {
  model::Session s(m_, 0);
  std::vector<std::vector<int32_t>> prompts = {ids(7, 1), ids(19, 2), ids(1, 3), ids(12, 4)};
  std::vector<model::Logits> single;
  for (const auto& p : prompts) single.push_back(s.append(s.create(), p, true));
  std::vector<model::Append> reqs;
  for (const auto& p : prompts) reqs.push_back({s.create(), p, true});
  auto batch = s.append_batch(reqs);
  size_t row = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (size_t r = 0; r < single[i].rows; ++r) expect_close(batch.row(row++), single[i].row(r));
  }
  EXPECT_EQ(row, batch.rows);
  // Batched decode (one token each, different cache lengths) equals one-by-one decode.
  std::vector<model::Append> step;
  for (size_t i = 0; i < reqs.size(); ++i)
    step.push_back({reqs[i].seq, {static_cast<int32_t>(100 + i)}, false});
  auto bstep = s.append_batch(step);
  for (size_t i = 0; i < prompts.size(); ++i) {
    model::SeqId one = s.create();
    auto p = prompts[i];
    p.push_back(static_cast<int32_t>(100 + i));
    auto l = s.append(one, p);
    expect_close(bstep.row(i), l.row(0));
  }
}

// bf16 compute takes the decode kernels (AVX-512 BF16 small-batch projections where the CPU has them,
// the fused decode attention everywhere): a batched decode step must equal the same step taken one
// sequence at a time bit for bit (per-output summation order does not depend on the batch), and
// incremental decoding must stay within bf16 rounding of a full recomputation.
TEST_F(SessionTest, Bf16DecodeStepsMatchSingleAndFullRecomputation) {
  auto m = model::Model::load(*dir_, {.dtype = model::DType::BF16});
  model::Session s(m, 0);
  std::vector<std::vector<int32_t>> prompts = {ids(9, 1), ids(23, 2), ids(2, 3)};
  std::vector<model::SeqId> batch, single;
  for (const auto& p : prompts) {
    batch.push_back(s.create());
    s.append(batch.back(), p);
    single.push_back(s.create());
    s.append(single.back(), p);
  }
  for (int t = 0; t < 6; ++t) {
    std::vector<model::Append> step;
    for (size_t i = 0; i < prompts.size(); ++i)
      step.push_back({batch[i], {static_cast<int32_t>(200 + 7 * t + i)}, false});
    auto b = s.append_batch(step);
    for (size_t i = 0; i < prompts.size(); ++i) {
      auto one = s.append(single[i], std::vector<int32_t>{static_cast<int32_t>(200 + 7 * t + i)});
      ASSERT_EQ(0, std::memcmp(b.row(i).data(), one.row(0).data(), one.cols * sizeof(float)))
          << "seq " << i << " step " << t;
    }
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto all = s.tokens(batch[i]);
    auto last = s.append(batch[i], std::vector<int32_t>{7});
    all.push_back(7);
    auto again = s.append(s.create(), all);
    expect_close(last.row(0), again.row(0), 3e-2);
  }
}

TEST_F(SessionTest, ForkTruncateRelease) {
  model::Session s(m_, 0);
  auto a = ids(10, 5);
  model::SeqId base = s.create();
  s.append(base, a);
  model::SeqId f = s.fork(base);
  EXPECT_EQ(s.tokens(f), a);
  auto cont = s.append(f, ids(3, 6));
  auto ref_tokens = a;
  for (auto t : ids(3, 6)) ref_tokens.push_back(t);
  auto ref = s.append(s.create(), ref_tokens);
  expect_close(cont.row(0), ref.row(0));
  EXPECT_EQ(s.tokens(base), a);  // the fork did not touch its source
  // Truncate back to 6 tokens and continue: equals a fresh computation of the shorter prefix.
  s.truncate(f, 6);
  auto t6 = s.append(f, std::vector<int32_t>{42});
  std::vector<int32_t> short_tokens(a.begin(), a.begin() + 6);
  short_tokens.push_back(42);
  expect_close(t6.row(0), s.append(s.create(), short_tokens).row(0));
  EXPECT_THROW(s.truncate(f, 100), util::Error);
  s.release(f);
  EXPECT_THROW(s.tokens(f), util::Error);
  EXPECT_THROW(s.append(base, std::vector<int32_t>{}), util::Error);
  EXPECT_THROW(s.append(base, std::vector<int32_t>{512}), util::Error);
  std::vector<model::Append> dup = {{base, {1}, false}, {base, {2}, false}};
  EXPECT_THROW(s.append_batch(dup), util::Error);
  EXPECT_EQ(s.tokens(base), a);  // failed calls left the sequence unchanged
}

TEST_F(SessionTest, PrefixSharedScoringEqualsUnshared) {
  auto prompt = ids(static_cast<int>(model::Session::kPrefillBlock) + 2, 7);  // one full block and two tokens
  std::vector<std::vector<int32_t>> conts;
  for (int i = 0; i < 20; ++i) conts.push_back(ids(3 + i % 5, 10 + i));
  conts.push_back({});
  std::vector<int32_t> options = {32, 33, 34, 35, 36};
  model::Session shared(m_);
  auto got = model::score_continuations(shared, prompt, conts, options, true);
  model::Session plain(m_, 0);
  for (size_t i = 0; i < conts.size(); ++i) {
    auto full = prompt;
    full.insert(full.end(), conts[i].begin(), conts[i].end());
    auto l = plain.append(plain.create(), full);
    auto want = model::option_distribution(l.row(0), options);
    ASSERT_EQ(got[i].probs.size(), options.size());
    for (size_t k = 0; k < options.size(); ++k) EXPECT_NEAR(got[i].probs[k], want[k], 1e-5);
    auto lp = model::log_softmax(l.row(0));
    expect_close(got[i].logprobs, lp);
  }
  // The prompt went through the model once, each continuation once.
  size_t cont_tokens = 0;
  for (const auto& c : conts) cont_tokens += c.size();
  EXPECT_EQ(shared.tokens_computed(), prompt.size() + cont_tokens);
  // Scoring again reuses the cached prompt up to its last block boundary: 2 tokens recomputed.
  auto again = model::score_continuations(shared, prompt, {conts[0]}, options);
  EXPECT_EQ(shared.prefix_cache_hits(), 1u);
  EXPECT_EQ(shared.tokens_computed(), prompt.size() + cont_tokens + 2 + conts[0].size());
  for (size_t k = 0; k < options.size(); ++k) EXPECT_NEAR(again[0].probs[k], got[0].probs[k], 1e-6);
  EXPECT_EQ(shared.live_sequences(), 0u);  // nothing leaked
}

// Forks of one prefix extended by the same number of tokens in one batch take the shared-prefix
// attention (one GEMM over the prefix for all their queries): every position equals appending to
// each fork alone. A sequence with the same tokens but computed separately still joins only if its
// cache bytes are identical; a different length or token count starts a new group.
TEST_F(SessionTest, ForksOfOnePrefixShareTheirAttention) {
  model::Session s(m_, 0);
  model::SeqId base = s.create();
  s.append(base, ids(70, 4));
  std::vector<model::Append> batch;
  std::vector<model::SeqId> alone;
  for (int i = 0; i < 6; ++i) {
    batch.push_back({s.fork(base), ids(5, 20 + i), true});
    alone.push_back(s.fork(base));
  }
  model::SeqId other = s.create();  // different history: its own group
  s.append(other, ids(30, 9));
  batch.push_back({other, ids(5, 40), true});
  batch.push_back({s.fork(base), ids(3, 41), true});  // same prefix, fewer tokens: its own group
  alone.push_back(other);
  alone.push_back(s.fork(base));
  auto got = s.append_batch(batch);
  ASSERT_EQ(got.rows, 6u * 5 + 5 + 3);
  size_t row = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    model::SeqId ref = alone[i];
    if (i == 6) {  // `other` itself went into the batch: rebuild it
      ref = s.create();
      s.append(ref, ids(30, 9));
    }
    auto want = s.append(ref, batch[i].tokens, true);
    for (size_t r = 0; r < want.rows; ++r) expect_close(got.row(row++), want.row(r));
  }
  EXPECT_EQ(row, got.rows);
}

TEST_F(SessionTest, PretransposedLayoutEqualsStored) {
  for (auto dtype : {model::DType::F32, model::DType::BF16}) {
    auto stored = model::Model::load(*dir_, {.dtype = dtype});
    auto fused = model::Model::load(*dir_, {.dtype = dtype, .pretranspose = true});
    model::Session a(stored, 0), b(fused, 0);
    auto all = ids(20);
    auto la = a.append(a.create(), all, true);
    auto lb = b.append(b.create(), all, true);
    expect_close(la.data, lb.data, dtype == model::DType::F32 ? 2e-5 : 0.1);
  }
}

TEST_F(SessionTest, PrefixCacheReusesPartialPrefixAndEvicts) {
  model::Session s(m_, 2);
  constexpr size_t B = model::Session::kPrefillBlock;
  auto a = ids(static_cast<int>(2 * B + 12), 1);
  auto b = a;
  b.resize(B + 6);
  b.push_back(7);
  b.push_back(8);
  model::Logits la, lb;
  s.release(s.prefill_cached(a, &la));
  s.release(s.prefill_cached(b, &lb));  // shares B + 6 tokens with a; reuse rounds down to the block
  EXPECT_EQ(s.prefix_cache_hits(), 1u);
  EXPECT_EQ(s.tokens_computed(), a.size() + 8);
  model::Session plain(m_, 0);
  expect_close(lb.row(0), plain.append(plain.create(), b).row(0));
  s.release(s.prefill_cached(ids(5, 9), nullptr));
  s.release(s.prefill_cached(ids(5, 11), nullptr));  // capacity 2: a and b are gone now
  size_t before = s.tokens_computed();
  s.release(s.prefill_cached(a, nullptr));
  EXPECT_GE(s.tokens_computed() - before, a.size() - 1);
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// A warm prefix cache must not change a single bit of the result (resumable stages rely on it):
// prefill is blocked at absolute positions and cache reuse is rounded to those blocks.
TEST_F(SessionTest, PrefixCacheIsBitIdenticalToColdPrefill) {
  auto prefix = ids(static_cast<int>(2 * model::Session::kPrefillBlock + 22), 3);  // reuse: two blocks
  auto full = prefix;
  for (int32_t t : ids(37, 9)) full.push_back(t);
  model::Session warm(m_, 4), cold(m_, 4);
  model::Logits first, a, b;
  warm.prefill_cached(prefix, &first);
  warm.prefill_cached(full, &a);
  EXPECT_EQ(warm.prefix_cache_hits(), 1u);
  cold.prefill_cached(full, &b);
  ASSERT_EQ(a.data.size(), b.data.size());
  EXPECT_EQ(0, std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)));
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// A shared-prefix split: prompts that agree up to `split` reuse exactly `split` tokens of a cached
// prompt computed with the same split (not a block multiple), and the result is bit-identical to a
// cold prefill with that split whatever was cached before (a prompt cached without a split, or
// with another split, is reused only up to a common block boundary).
TEST_F(SessionTest, SharedPrefixSplitReusesExactlyAndStaysBitIdentical) {
  constexpr size_t B = model::Session::kPrefillBlock;
  const size_t split = B + 41;
  auto head = ids(static_cast<int>(split), 5);
  auto page = [&](int seed) {
    auto p = head;
    for (int32_t t : ids(23, seed)) p.push_back(t);
    return p;
  };
  auto a = page(11), b = page(13);
  model::Session warm(m_, 4), cold(m_, 4);
  model::Logits la, lb, cb;
  warm.release(warm.prefill_cached(a, &la, split));
  const size_t before = warm.tokens_computed();
  warm.release(warm.prefill_cached(b, &lb, split));
  EXPECT_EQ(warm.tokens_computed() - before, b.size() - split);  // the whole shared part reused
  EXPECT_EQ(warm.prefix_cache_hits(), 1u);
  cold.release(cold.prefill_cached(b, &cb, split));
  ASSERT_EQ(lb.data.size(), cb.data.size());
  EXPECT_EQ(0, std::memcmp(lb.data.data(), cb.data.data(), lb.data.size() * sizeof(float)));

  // A cache filled without a split (or with another one) is reused only to a common block boundary:
  // still bit-identical.
  model::Session mixed(m_, 4);
  mixed.release(mixed.prefill_cached(a, nullptr));
  mixed.release(mixed.prefill_cached(page(17), nullptr, split - 3));
  const size_t mixed_before = mixed.tokens_computed();
  model::Logits mb;
  mixed.release(mixed.prefill_cached(b, &mb, split));
  EXPECT_EQ(mixed.tokens_computed() - mixed_before, b.size() - B);
  EXPECT_EQ(0, std::memcmp(mb.data.data(), cb.data.data(), cb.data.size() * sizeof(float)));

  // The split result is close to an unsplit prefill (another block layout: rounding only).
  model::Session plain(m_, 0);
  expect_close(lb.row(0), plain.append(plain.create(), b).row(0));

  // A split at or past the end is ignored.
  model::Session edge(m_, 2);
  model::Logits e1, e2;
  edge.release(edge.prefill_cached(b, &e1, b.size()));
  cold.release(cold.prefill_cached(b, &e2));
  EXPECT_EQ(0, std::memcmp(e1.data.data(), e2.data.data(), e1.data.size() * sizeof(float)));
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// A group of pages (score_option_group): results depend on the group only — identical on a fresh
// session and on one whose prefix cache already holds the shared part or other prompts — prompt 0
// and prompts that do not share the prefix equal asking them alone bit for bit, and the batched ones
// equal it up to rounding.
TEST_F(SessionTest, OptionGroupDependsOnTheGroupOnly) {
  constexpr size_t B = model::Session::kPrefillBlock;
  const size_t split = B + 57;
  auto head = ids(static_cast<int>(split), 21);
  std::vector<std::vector<int32_t>> prompts;
  for (int k : {90, 70, 12, 200, 1}) {  // suffixes shorter and longer than one block
    auto p = head;
    for (int32_t t : ids(k, 40 + k)) p.push_back(t);
    prompts.push_back(p);
  }
  prompts.push_back(ids(150, 7));  // does not share the prefix: asked alone
  const std::vector<std::vector<int32_t>> letters(prompts.size(), std::vector<int32_t>{3, 4, 5});
  for (auto dtype : {model::DType::F32, model::DType::BF16}) {
    auto m = model::Model::load(*dir_, {.dtype = dtype});
    model::Session fresh(m, 8), warm(m, 8), alone(m, 8);
    auto a = model::score_option_group(fresh, prompts, split, letters);
    warm.release(warm.prefill_cached(prompts[3], nullptr, split));
    warm.release(warm.prefill_cached(ids(300, 3), nullptr));
    auto b = model::score_option_group(warm, prompts, split, letters);
    ASSERT_EQ(a.size(), prompts.size());
    EXPECT_EQ(fresh.live_sequences(), 0u);
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ(a[i].probs, b[i].probs) << i;
      auto one =
          model::score_options(alone, prompts[i], letters[i], false, i + 1 < prompts.size() ? split : 0);
      if (i == 0 || i + 1 == prompts.size()) {
        EXPECT_EQ(a[i].probs, one.probs) << i;
      } else {
        for (size_t k = 0; k < one.probs.size(); ++k)
          EXPECT_NEAR(a[i].probs[k], one.probs[k], dtype == model::DType::F32 ? 1e-5 : 2e-2) << i;
      }
    }
  }
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// Cancellation of a page group (score_option_group's `cancelled`): members cancelled from the start —
// one batched member with a short suffix, one whose suffix needs a second block step, one asked
// alone — leave the live members' results bit-identical to the uncancelled group; the work saved is
// exactly the member asked alone (150 tokens) and the second block step that only the cancelled
// long suffix needed (200 - 128 = 72 tokens).
TEST_F(SessionTest, CancelledGroupMembersLeaveTheOthersIdentical) {
  constexpr size_t B = model::Session::kPrefillBlock;
  const size_t split = B + 57;
  auto head = ids(static_cast<int>(split), 21);
  std::vector<std::vector<int32_t>> prompts;
  for (int k : {90, 70, 12, 200, 1}) {
    auto p = head;
    for (int32_t t : ids(k, 40 + k)) p.push_back(t);
    prompts.push_back(p);
  }
  prompts.push_back(ids(150, 7));  // does not share the prefix: asked alone
  const std::vector<std::vector<int32_t>> letters(prompts.size(), std::vector<int32_t>{3, 4, 5});
  for (auto dtype : {model::DType::F32, model::DType::BF16}) {
    auto m = model::Model::load(*dir_, {.dtype = dtype});
    model::Session full(m, 8), part(m, 8);
    auto want = model::score_option_group(full, prompts, split, letters);
    const std::vector<bool> gone = {false, false, true, true, false, true};
    auto got = model::score_option_group(part, prompts, split, letters, [&](size_t i) { return gone[i]; });
    EXPECT_EQ(part.live_sequences(), 0u);
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (gone[i]) continue;
      EXPECT_EQ(got[i].probs, want[i].probs) << i;
    }
    EXPECT_TRUE(got[5].probs.empty());
    EXPECT_EQ(full.tokens_computed() - part.tokens_computed(), 150u + (200u - B));
  }
}

// A group whose members are all cancelled stops at the next prefill block: the call throws, holds no
// sequence afterwards, and computed exactly the first block of prompt 0.
TEST_F(SessionTest, GroupCancelledMidPrefillStopsAtTheNextBlock) {
  constexpr size_t B = model::Session::kPrefillBlock;
  const size_t split = B + 57;
  auto head = ids(static_cast<int>(split), 21);
  std::vector<std::vector<int32_t>> prompts;
  for (int k : {300, 40}) {
    auto p = head;
    for (int32_t t : ids(k, 40 + k)) p.push_back(t);
    prompts.push_back(p);
  }
  const std::vector<std::vector<int32_t>> letters(prompts.size(), std::vector<int32_t>{3, 4});
  model::Session s(m_, 8);
  auto cancelled = [&](size_t) { return s.tokens_computed() >= B; };  // "the client left" after block 1
  EXPECT_THROW(model::score_option_group(s, prompts, split, letters, cancelled), util::Error);
  EXPECT_EQ(s.tokens_computed(), B);
  EXPECT_EQ(s.live_sequences(), 0u);
  // The session is usable afterwards, and nothing half-computed was remembered as a prefix.
  model::Session fresh(m_, 8);
  EXPECT_EQ(model::score_option_group(s, prompts, split, letters)[1].probs,
            model::score_option_group(fresh, prompts, split, letters)[1].probs);
}

}  // namespace
}  // namespace um

namespace um {
namespace {

// Prompts prefilled together (Session::prefill_cached_together, continuous batching's joiners): a
// prompt's own cancel is asked before each of its blocks, so a long prompt cancelled after its first
// block stops there, and the call leaves no sequence behind.
TEST_F(SessionTest, PrefillTogetherStopsAtTheNextBlockOfACancelledPrompt) {
  constexpr size_t B = model::Session::kPrefillBlock;
  model::Session s(m_, 8);
  const auto shorter = ids(40, 3), longer = ids(static_cast<int>(4 * B + 10), 5);
  std::vector<model::Session::PrefillPrompt> ps;
  ps.push_back({shorter, 0});
  ps.push_back({longer, 0, [&] { return s.tokens_computed() >= B; }});  // "the client left" after block 1
  model::Logits first;
  EXPECT_THROW(s.prefill_cached_together(ps, &first), util::Error);
  EXPECT_EQ(s.tokens_computed(), B);  // the shorter prompt is all last block: nothing computed for it yet
  EXPECT_EQ(s.live_sequences(), 0u);
  ps[1].cancelled = {};
  auto seqs = s.prefill_cached_together(ps, &first);
  EXPECT_EQ(seqs.size(), 2u);
  for (auto q : seqs) s.release(q);
}

}  // namespace
}  // namespace um
