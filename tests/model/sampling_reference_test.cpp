// sample() (O(V): selection, a radix sort of values, ids by rank among equal values) against the
// definition it replaces: the sampling chain as it was before (copied here verbatim as the
// straightforward reference: build all candidates, sort, softmax, cut, draw). Random logits with
// many ties, -0/+0, -inf entries, wide and narrow ranges, every combination of temperature / top_k /
// top_p / min_p, many seeds: the drawn ids must be identical. Masked ids (padding rows, ids without
// a token) are never drawn and sampling with a mask equals the reference on the unmasked ids alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/model.h"
#include "model/sampling.h"
#include "util/error.h"
#include "util/rng.h"

namespace um {
namespace {

// ---- the reference: src/model/sampling.cpp before the O(V) sampler, unchanged ----
namespace ref {
struct Candidate {
  int32_t id;
  float logit;
  double p = 0.0;
};
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
void renormalise(std::vector<Candidate>& c) {
  double s = 0;
  for (const auto& x : c) s += x.p;
  for (auto& x : c) x.p /= s;
}
int32_t argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}
std::vector<Candidate> candidates(std::span<const float> logits) {
  std::vector<Candidate> c;
  c.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0.0});
  return c;
}
void apply_temperature(std::vector<Candidate>& c, double temperature) {
  for (auto& x : c) x.logit = static_cast<float>(x.logit / temperature);
}
void top_k(std::vector<Candidate>& c, int k) {
  if (k > 0 && static_cast<size_t>(k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + k, c.end(), before);
    c.resize(static_cast<size_t>(k));
  } else {
    std::sort(c.begin(), c.end(), before);
  }
}
void softmax(std::vector<Candidate>& c) {
  const double mx = c.front().logit;
  for (auto& x : c) x.p = std::exp(static_cast<double>(x.logit) - mx);
  renormalise(c);
}
void top_p(std::vector<Candidate>& c, double p) {
  if (p >= 1.0) return;
  double cum = 0;
  size_t keep = 0;
  while (keep < c.size()) {
    cum += c[keep].p;
    ++keep;
    if (cum >= p) break;
  }
  c.resize(std::max<size_t>(keep, 1));
  renormalise(c);
}
void min_p(std::vector<Candidate>& c, double mp) {
  if (mp <= 0.0 || c.empty()) return;
  const double cut = mp * c.front().p;
  size_t keep = 1;
  while (keep < c.size() && c[keep].p >= cut) ++keep;
  c.resize(keep);
  renormalise(c);
}
int32_t draw(const std::vector<Candidate>& c, util::Rng& rng) {
  double u = rng.uniform01();
  for (const auto& x : c) {
    if (u < x.p) return x.id;
    u -= x.p;
  }
  return c.back().id;
}
int32_t sample(std::span<const float> logits, const model::SamplingParams& params, util::Rng& rng) {
  if (params.temperature <= 0.0) return argmax(logits);
  auto c = candidates(logits);
  apply_temperature(c, params.temperature);
  top_k(c, params.top_k);
  softmax(c);
  top_p(c, params.top_p);
  min_p(c, params.min_p);
  return draw(c, rng);
}
}  // namespace ref
// ---- end of the reference ----

// Random logits of several shapes: continuous, quantised (many ties), a few huge ties, wide ranges
// (candidates far below the maximum), -inf and -0 entries.
std::vector<float> random_logits(util::Rng& rng, size_t v, int shape) {
  std::vector<float> l(v);
  for (auto& x : l) {
    double g = 0;
    for (int j = 0; j < 4; ++j) g += rng.uniform01() - 0.5;  // roughly normal
    switch (shape) {
      case 0:
        x = static_cast<float>(g * 6.0);
        break;  // continuous
      case 1:
        x = static_cast<float>(std::round(g * 8.0) * 0.5);
        break;  // ties
      case 2:
        x = static_cast<float>(rng.uniform_int(0, 3));
        break;  // four values
      case 3:
        x = static_cast<float>(g * 60.0);
        break;  // wide: negligible tail
      case 4:
        x = static_cast<float>(std::round(g * 40.0) * 2.0 - 30.0);
        break;  // wide with ties
      default:
        x = 0.0f;
        break;  // all equal
    }
  }
  if (v > 4 && shape % 2 == 1) {
    l[rng.uniform_int(0, static_cast<int64_t>(v) - 1)] = -std::numeric_limits<float>::infinity();
    l[rng.uniform_int(0, static_cast<int64_t>(v) - 1)] = -0.0f;
    l[rng.uniform_int(0, static_cast<int64_t>(v) - 1)] = 0.0f;
  }
  return l;
}

std::vector<model::SamplingParams> parameter_grid() {
  std::vector<model::SamplingParams> out;
  for (double t : {0.0, 0.3, 0.7, 1.0, 1.5})
    for (int k : {0, 1, 2, 7, 50, 2000})
      for (double p : {1.0, 0.95, 0.5, 0.1, 0.9999999999999999})
        for (double mp : {0.0, 0.05, 0.5, 1e-30}) out.push_back({t, k, p, mp});
  return out;
}

TEST(SamplingReference, SameIdsAsTheSortingDefinitionOnRandomLogits) {
  util::Rng gen(20261206);
  const auto grid = parameter_grid();
  size_t compared = 0;
  for (size_t v : {1u, 2u, 3u, 17u, 300u, 5000u}) {
    for (int shape = 0; shape < 6; ++shape) {
      const std::vector<float> logits = random_logits(gen, v, shape);
      for (size_t g = 0; g < grid.size(); ++g) {
        const uint64_t seed = gen.next_u64();
        util::Rng a(seed), b(seed), c(seed);
        const int32_t want = ref::sample(logits, grid[g], a);
        ASSERT_EQ(model::sample(logits, grid[g], b), want)
            << "v=" << v << " shape=" << shape << " T=" << grid[g].temperature << " top_k=" << grid[g].top_k
            << " top_p=" << grid[g].top_p << " min_p=" << grid[g].min_p;
        ASSERT_EQ(model::sample_by_sorting(logits, grid[g], c), want);
        // The same random numbers were consumed (one uniform per sampled token, none when greedy).
        ASSERT_EQ(a.next_u64(), b.next_u64());
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 6u * 6u * grid.size());
}

// Many draws from one row at the full Qwen2.5 vocabulary size: every seed gives the same id.
TEST(SamplingReference, SameIdsAtFullVocabularySize) {
  util::Rng gen(7);
  for (int shape : {0, 1, 3, 4}) {
    const std::vector<float> logits = random_logits(gen, 151936, shape);
    for (model::SamplingParams p :
         {model::SamplingParams{1.0, 0, 1.0, 0.0}, model::SamplingParams{0.8, 0, 0.9, 0.0},
          model::SamplingParams{1.0, 40, 0.95, 0.0}, model::SamplingParams{0.7, 0, 1.0, 0.02},
          model::SamplingParams{1.3, 0, 0.999, 1e-12}}) {
      for (int draws = 0; draws < 3; ++draws) {
        const uint64_t seed = gen.next_u64();
        util::Rng a(seed), b(seed);
        ASSERT_EQ(model::sample(logits, p, b), ref::sample(logits, p, a))
            << "shape=" << shape << " T=" << p.temperature << " top_k=" << p.top_k << " top_p=" << p.top_p;
      }
    }
  }
}

// Masked ids are not candidates: the result equals the reference on the row of allowed ids alone,
// and a masked id is never drawn even when it has the highest logit.
TEST(SamplingReference, MaskedIdsAreNeverDrawn) {
  util::Rng gen(11);
  const auto grid = parameter_grid();
  for (int round = 0; round < 40; ++round) {
    const size_t v = static_cast<size_t>(gen.uniform_int(2, 400));
    std::vector<float> logits = random_logits(gen, v, round % 6);
    // A padded vocabulary: the mask is shorter than the row; holes inside it too.
    std::vector<uint8_t> allowed(v - static_cast<size_t>(gen.uniform_int(0, static_cast<int64_t>(v) / 4)));
    for (auto& a : allowed) a = gen.uniform01() < 0.8 ? 1 : 0;
    allowed[static_cast<size_t>(gen.uniform_int(0, static_cast<int64_t>(allowed.size()) - 1))] = 1;
    std::vector<int32_t> ids;
    std::vector<float> sub;
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (allowed[i]) {
        ids.push_back(static_cast<int32_t>(i));
        sub.push_back(logits[i]);
      }
    }
    // The largest logit sits on a masked id (or in the padding) half of the time.
    for (size_t i = 0; i < v; ++i) {
      if ((i >= allowed.size() || !allowed[i]) && round % 2 == 0) logits[i] = 1e4f;
    }
    for (size_t g = 0; g < grid.size(); g += 7) {
      const uint64_t seed = gen.next_u64();
      util::Rng a(seed), b(seed);
      const int32_t want = ids[static_cast<size_t>(ref::sample(sub, grid[g], a))];
      const int32_t got = model::sample(logits, grid[g], b, allowed);
      ASSERT_EQ(got, want) << "round " << round << " params " << g;
      ASSERT_TRUE(static_cast<size_t>(got) < allowed.size() && allowed[static_cast<size_t>(got)]);
    }
  }
  std::vector<float> row = {1.0f, 2.0f};
  std::vector<uint8_t> none = {0, 0};
  util::Rng rng(1);
  EXPECT_THROW(model::sample(row, {.temperature = 1.0}, rng, none), util::Error);
  EXPECT_THROW(model::sample(row, {.temperature = 0.0}, rng, none), util::Error);
}

// The reference with a mask: the reference on the allowed ids alone, mapped back to row ids.
int32_t ref_sample_masked(const std::vector<float>& logits, const std::vector<uint8_t>& allowed,
                          const model::SamplingParams& params, util::Rng& rng) {
  std::vector<int32_t> ids;
  std::vector<float> sub;
  for (size_t i = 0; i < std::min(allowed.size(), logits.size()); ++i) {
    if (allowed[i]) {
      ids.push_back(static_cast<int32_t>(i));
      sub.push_back(logits[i]);
    }
  }
  return ids[static_cast<size_t>(ref::sample(sub, params, rng))];
}

// sample()'s shortcuts at the full vocabulary size, where the radix sort runs: temperature exactly 1
// (no division), top_p below 1 with many candidates (the renormaliser taken from the running sum,
// probabilities divided only when read), min_p, top_k's one-pass selection (ties at the k-th value
// included), the backend's padding mask with holes in it.
TEST(SamplingReference, FastPathsAtFullVocabularySizeWithAMask) {
  util::Rng gen(31);
  std::vector<uint8_t> allowed(151665, 1);
  for (auto& a : allowed) a = gen.uniform01() < 0.97 ? 1 : 0;
  for (int shape = 0; shape < 6; ++shape) {
    const std::vector<float> logits = random_logits(gen, 151936, shape);
    for (model::SamplingParams p :
         {model::SamplingParams{1.0, 0, 1.0, 0.0}, model::SamplingParams{1.0, 0, 0.9, 0.0},
          model::SamplingParams{1.0, 0, 0.5, 0.0}, model::SamplingParams{1.0, 0, 0.9, 0.05},
          model::SamplingParams{1.0, 0, 1.0, 0.05}, model::SamplingParams{0.8, 0, 1.0, 0.05},
          model::SamplingParams{0.7, 40, 1.0, 0.0}, model::SamplingParams{1.0, 40, 0.9, 0.0},
          model::SamplingParams{0.7, 2000, 0.95, 0.01}, model::SamplingParams{1.0, 1, 1.0, 0.0}}) {
      const uint64_t seed = gen.next_u64();
      util::Rng a(seed), b(seed);
      ASSERT_EQ(model::sample(logits, p, b, allowed), ref_sample_masked(logits, allowed, p, a))
          << "shape=" << shape << " T=" << p.temperature << " top_k=" << p.top_k << " top_p=" << p.top_p
          << " min_p=" << p.min_p;
    }
  }
}

// Temperatures where x / T underflows into subnormals (many logits scale to one value: the id lookup
// cannot bracket them by stepping and divides each one) or overflows to infinity (no finite maximum:
// the sorting chain), rows of infinities, and NaN top_p / min_p (the definition runs those cuts).
TEST(SamplingReference, ExtremeTemperaturesAndInfiniteRows) {
  util::Rng gen(77);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (int round = 0; round < 12; ++round) {
    std::vector<float> logits = random_logits(gen, 3000, round % 6);
    if (round == 6) std::fill(logits.begin(), logits.end(), -kInf);
    if (round == 7) logits[17] = kInf;
    if (round == 8) logits[5] = logits[2000] = kInf;
    for (double t : {1e45, 1e42, 1e38, 1e30, 3.0, 1.0, 1e-30, 1e-37}) {
      constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();  // cuts that never stop
      for (model::SamplingParams p :
           {model::SamplingParams{t, 0, 1.0, 0.0}, model::SamplingParams{t, 0, 0.9, 0.0},
            model::SamplingParams{t, 7, 1.0, 0.0}, model::SamplingParams{t, 0, 1.0, 0.3},
            model::SamplingParams{t, 0, kNaN, 0.0}, model::SamplingParams{t, 0, 1.0, kNaN},
            model::SamplingParams{t, 7, kNaN, kNaN}}) {
        const uint64_t seed = gen.next_u64();
        util::Rng a(seed), b(seed);
        ASSERT_EQ(model::sample(logits, p, b), ref::sample(logits, p, a))
            << "round=" << round << " T=" << t << " top_k=" << p.top_k << " top_p=" << p.top_p;
      }
    }
  }
}

// argmax (vectorised) against the loop it replaced: the first allowed id with the largest logit by
// `>`, where a NaN first candidate stays (nothing compares larger) and later NaNs are skipped.
TEST(SamplingReference, ArgmaxEqualsTheFirstLargestLoop) {
  auto loop = [](const std::vector<float>& logits, const std::vector<uint8_t>& allowed) {
    if (allowed.empty()) {
      size_t best = 0;
      for (size_t i = 1; i < logits.size(); ++i) {
        if (logits[i] > logits[best]) best = i;
      }
      return static_cast<int32_t>(best);
    }
    const size_t n = std::min(logits.size(), allowed.size());
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (allowed[i] != 0 && (best == n || logits[i] > logits[best])) best = i;
    }
    return best == n ? -1 : static_cast<int32_t>(best);
  };
  util::Rng gen(3);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (int round = 0; round < 3000; ++round) {
    const size_t v = static_cast<size_t>(gen.uniform_int(1, round < 2000 ? 40 : 3000));
    std::vector<float> logits(v);
    for (auto& x : logits) {
      const int64_t kind = gen.uniform_int(0, 9);
      x = kind == 0   ? kNaN
          : kind == 1 ? -kInf
          : kind == 2 ? (gen.uniform01() < 0.5 ? -0.0f : 0.0f)
          : kind == 3 ? kInf * (round % 7 == 0 ? 1.0f : -1.0f)
                      : static_cast<float>(gen.uniform_int(-3, 3));
    }
    std::vector<uint8_t> allowed;
    if (round % 2 == 1) {
      allowed.resize(static_cast<size_t>(gen.uniform_int(0, static_cast<int64_t>(v) + 5)));
      for (auto& a : allowed) a = gen.uniform01() < 0.7 ? 1 : 0;
    }
    const int32_t want = loop(logits, allowed);
    if (want < 0) {
      EXPECT_THROW(model::argmax(logits, allowed), util::Error);
      continue;
    }
    ASSERT_EQ(model::argmax(logits, allowed), want) << "round " << round;
    util::Rng rng(1);
    ASSERT_EQ(model::sample(logits, {.temperature = 0.0}, rng, allowed), want);
  }
}

// token_logprobs equals log_softmax's entries and lists the best allowed ids.
TEST(SamplingReference, TokenLogprobsMatchLogSoftmax) {
  util::Rng gen(5);
  std::vector<float> logits = random_logits(gen, 1000, 1);
  std::vector<float> lp = model::log_softmax(logits);
  std::vector<uint8_t> allowed(990, 1);
  allowed[3] = 0;
  model::TokenLogprobs t = model::token_logprobs(logits, 42, 5, allowed);
  EXPECT_EQ(t.logprob, lp[42]);
  std::vector<int32_t> order;
  for (int32_t i = 0; i < 990; ++i)
    if (i != 3) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return lp[static_cast<size_t>(a)] > lp[static_cast<size_t>(b)] ||
           (lp[static_cast<size_t>(a)] == lp[static_cast<size_t>(b)] && a < b);
  });
  ASSERT_EQ(t.top.size(), 5u);
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_EQ(t.top[j].first, order[j]);
    EXPECT_EQ(t.top[j].second, lp[static_cast<size_t>(order[j])]);
  }
}

}  // namespace
}  // namespace um
