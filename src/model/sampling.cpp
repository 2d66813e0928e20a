#include "model/sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "util/error.h"

namespace um::model {

namespace {
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
void renormalise(std::vector<Candidate>& c) {
  double s = 0;
  for (const auto& x : c) s += x.p;
  for (auto& x : c) x.p /= s;
}
bool is_allowed(TokenMask allowed, size_t i) {
  return allowed.empty() || (i < allowed.size() && allowed[i] != 0);
}

// The definition: every candidate, sorted (top_k's partial sort), with the uniform number given.
int32_t chain_by_sorting(std::span<const float> logits, const SamplingParams& params, TokenMask allowed,
                         double u) {
  auto c = candidates(logits, allowed);
  apply_temperature(c, params.temperature);
  top_k(c, params.top_k);
  softmax(c);
  top_p(c, params.top_p);
  min_p(c, params.min_p);
  return draw_at(c, u);
}

// Candidates whose scaled logit is more than kNegligible below the maximum have exp(l - max) <
// exp(-40) ≈ 4.3e-18 < 2^-53. The softmax normaliser is a running sum that starts with the maximum's
// exp(0) = 1, so it is >= 1 when they are added (they come last in the sorted order), and adding a
// number below half an ulp of a sum >= 1 (2^-53) leaves the sum unchanged: they never change the
// normaliser. They matter only when a later piece keeps every candidate (top_p not reached, min_p
// cut below all of them, or a draw that runs past the others on a rounding sliver); sample() then
// falls back to the sorting chain, so its result is the definition's in every case.
constexpr double kNegligible = -40.0;

// Floats as unsigned keys whose ascending order is the floats' descending order (-0 and +0 equal).
uint32_t descending_key(float f) {
  f += 0.0f;  // -0 -> +0
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~ascending;
}
float from_descending_key(uint32_t k) {
  const uint32_t ascending = ~k;
  const uint32_t u = (ascending & 0x80000000u) ? (ascending & 0x7fffffffu) : ~ascending;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Sorts v[0, n) descending: an LSD radix sort on 11-bit digits (three passes, O(n)) for long runs,
// std::sort for short ones. Only values are sorted: ids of equal values are found afterwards.
void sort_descending(float* v, size_t n, std::vector<uint32_t>& a, std::vector<uint32_t>& b) {
  if (n < 1024) {
    std::sort(v, v + n, std::greater<float>());
    return;
  }
  a.resize(n);
  b.resize(n);
  std::array<std::array<uint32_t, 2048>, 3> count{};
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = descending_key(v[i]);
    a[i] = k;
    ++count[0][k & 2047u];
    ++count[1][(k >> 11) & 2047u];
    ++count[2][k >> 22];
  }
  uint32_t* src = a.data();
  uint32_t* dst = b.data();
  for (int pass = 0; pass < 3; ++pass) {
    const int shift = 11 * pass;
    auto& c = count[static_cast<size_t>(pass)];
    if (c[(src[0] >> shift) & 2047u] == n) continue;  // one digit value: this pass keeps the order
    uint32_t sum = 0;
    for (auto& x : c) {
      const uint32_t here = x;
      x = sum;
      sum += here;
    }
    for (size_t i = 0; i < n; ++i) dst[c[(src[i] >> shift) & 2047u]++] = src[i];
    std::swap(src, dst);
  }
  for (size_t i = 0; i < n; ++i) v[i] = from_descending_key(src[i]);
}

struct Scratch {
  std::vector<float> sub_logit;  // the candidates that are not negligible, in id order
  std::vector<int32_t> sub_id;
  std::vector<float> sorted;  // their scaled logits, descending
  std::vector<double> p;
  std::vector<uint32_t> a, b;
};
}  // namespace

int32_t argmax(std::span<const float> logits, TokenMask allowed) {
  if (logits.empty()) throw util::Error("argmax of an empty logits row");
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
  if (best == n) throw util::Error("no allowed token id to choose from");
  return static_cast<int32_t>(best);
}

std::vector<Candidate> candidates(std::span<const float> logits, TokenMask allowed) {
  std::vector<Candidate> c;
  c.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    if (is_allowed(allowed, i)) c.push_back({static_cast<int32_t>(i), logits[i], 0.0});
  }
  return c;
}

void apply_temperature(std::vector<Candidate>& c, double temperature) {
  if (!(temperature > 0)) throw util::Error("temperature must be > 0 here", {.field = "temperature"});
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
  if (c.empty()) throw util::Error("no candidates to sample from");
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
  if (c.empty()) throw util::Error("no candidates to sample from");
  return draw_at(c, rng.uniform01());
}

int32_t draw_at(const std::vector<Candidate>& c, double u) {
  if (c.empty()) throw util::Error("no candidates to sample from");
  for (const auto& x : c) {
    if (u < x.p) return x.id;
    u -= x.p;
  }
  return c.back().id;  // rounding left a sliver of mass
}

int32_t sample_by_sorting(std::span<const float> logits, const SamplingParams& params, util::Rng& rng,
                          TokenMask allowed) {
  if (params.temperature <= 0.0) return argmax(logits, allowed);
  auto c = candidates(logits, allowed);
  apply_temperature(c, params.temperature);
  top_k(c, params.top_k);
  softmax(c);
  top_p(c, params.top_p);
  min_p(c, params.min_p);
  return draw(c, rng);
}

// The chain of sample_by_sorting without sorting V candidates: the same floating-point operations in
// the same order on the candidates that can matter (see kNegligible), with selection (nth_element)
// for top_k and a linear-time radix sort of the remaining values for the normaliser, whose running
// sum must add them in descending order to be bit-identical. Ids are only needed for the drawn
// position: the r-th of a run of equal values is the r-th lowest id with that value.
int32_t sample(std::span<const float> logits, const SamplingParams& params, util::Rng& rng,
               TokenMask allowed) {
  const double temperature = params.temperature;
  if (temperature <= 0.0) return argmax(logits, allowed);
  if (!(temperature > 0)) throw util::Error("temperature must be > 0 here", {.field = "temperature"});

  // The largest scaled logit is the scaled largest logit: x -> float(x / T) is monotone for T > 0.
  size_t total = 0;
  float raw_max = -std::numeric_limits<float>::infinity();
  const bool masked = !allowed.empty();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (masked && (i >= allowed.size() || allowed[i] == 0)) continue;
    ++total;
    if (logits[i] > raw_max) raw_max = logits[i];
  }
  if (total == 0) throw util::Error("no candidates to sample from");
  const double u = rng.uniform01();
  const double mx = static_cast<float>(raw_max / temperature);

  thread_local Scratch s;
  s.sub_logit.clear();
  s.sub_id.clear();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (masked && (i >= allowed.size() || allowed[i] == 0)) continue;
    const float l = static_cast<float>(logits[i] / temperature);
    if (static_cast<double>(l) - mx >= kNegligible) {
      s.sub_logit.push_back(l);
      s.sub_id.push_back(static_cast<int32_t>(i));
    }
  }
  const size_t n = s.sub_logit.size();
  if (n == 0) return chain_by_sorting(logits, params, allowed, u);  // no finite maximum
  const size_t k = params.top_k > 0 && static_cast<size_t>(params.top_k) < total
                       ? static_cast<size_t>(params.top_k)
                       : total;
  s.sorted.assign(s.sub_logit.begin(), s.sub_logit.end());
  size_t m = n;
  bool tail = k > n;  // the definition keeps candidates beyond the ones here (all negligible)
  if (k < n) {
    std::nth_element(s.sorted.begin(), s.sorted.begin() + static_cast<std::ptrdiff_t>(k - 1), s.sorted.end(),
                     std::greater<float>());
    m = k;
  }
  sort_descending(s.sorted.data(), m, s.a, s.b);

  // softmax
  auto& p = s.p;
  p.resize(m);
  const double top = s.sorted[0];
  double sum = 0;
  for (size_t i = 0; i < m; ++i) {
    p[i] = std::exp(static_cast<double>(s.sorted[i]) - top);
    sum += p[i];
  }
  for (size_t i = 0; i < m; ++i) p[i] /= sum;

  auto renormalise_prefix = [&](size_t keep) {
    double t = 0;
    for (size_t i = 0; i < keep; ++i) t += p[i];
    for (size_t i = 0; i < keep; ++i) p[i] /= t;
  };
  if (params.top_p < 1.0) {
    double cum = 0;
    size_t keep = 0;
    bool reached = false;
    while (keep < m) {
      cum += p[keep];
      ++keep;
      if (cum >= params.top_p) {
        reached = true;
        break;
      }
    }
    if (!reached && tail) return chain_by_sorting(logits, params, allowed, u);
    if (reached) tail = false;
    m = std::max<size_t>(keep, 1);
    renormalise_prefix(m);
  }
  if (params.min_p > 0.0) {
    const double cut = params.min_p * p[0];
    size_t keep = 1;
    while (keep < m && p[keep] >= cut) ++keep;
    if (keep == m && tail) return chain_by_sorting(logits, params, allowed, u);
    tail = false;
    m = keep;
    renormalise_prefix(m);
  }
  size_t pos = m;
  double left = u;
  for (size_t i = 0; i < m; ++i) {
    if (left < p[i]) {
      pos = i;
      break;
    }
    left -= p[i];
  }
  if (pos == m) {
    if (tail) return chain_by_sorting(logits, params, allowed, u);
    pos = m - 1;  // rounding left a sliver of mass
  }
  const float v = s.sorted[pos];
  size_t rank = 0;
  while (rank < pos && s.sorted[pos - rank - 1] == v) ++rank;
  for (size_t i = 0; i < n; ++i) {
    if (s.sub_logit[i] == v) {
      if (rank == 0) return s.sub_id[i];
      --rank;
    }
  }
  throw util::Error("sampling: drawn value not among the candidates (internal error)");
}

}  // namespace um::model
