#include "model/sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "util/error.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define UM_SAMPLING_SSE2 1
#else
#define UM_SAMPLING_SSE2 0
#endif

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
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The definition's scaled logit: float(double(x) / T). With T == 1 it is x itself: x / 1.0 == x
// exactly for every double (NaN stays NaN, and only comparisons ever look at a NaN here), and the
// float -> double -> float round trip is exact, so kUnit skips the division.
template <bool kUnit>
float scaled(float x, double temperature) {
  if constexpr (kUnit) {
    return x;
  } else {
    return static_cast<float>(x / temperature);
  }
}
float scaled(float x, double temperature) { return temperature == 1.0 ? x : scaled<false>(x, temperature); }

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

// The ids [0, end) that can be allowed: with a mask, ids at or past its end are not.
size_t allowed_end(std::span<const float> logits, TokenMask allowed) {
  return allowed.empty() ? logits.size() : std::min(logits.size(), allowed.size());
}

// Four logits at a time as a pre-filter (SSE2 builds; elsewhere every id is checked one by one).
#if UM_SAMPLING_SSE2
using Lanes = __m128;
// Lanes i..i+3 that the mask allows, as all-ones lanes (i + 4 <= allowed_end).
Lanes allowed_lanes(TokenMask allowed, size_t i) {
  const __m128i ones = _mm_set1_epi32(-1);
  if (allowed.empty()) return _mm_castsi128_ps(ones);
  int32_t bytes;
  std::memcpy(&bytes, allowed.data() + i, sizeof bytes);
  const __m128i zero = _mm_setzero_si128();
  const __m128i words = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero), zero);
  return _mm_castsi128_ps(_mm_xor_si128(_mm_cmpeq_epi32(words, zero), ones));
}
Lanes every_lane(Lanes) { return _mm_castsi128_ps(_mm_set1_epi32(-1)); }
Lanes lanes_above(Lanes x, float t) { return _mm_cmpgt_ps(x, _mm_set1_ps(t)); }
Lanes lanes_equal(Lanes x, float v) { return _mm_cmpeq_ps(x, _mm_set1_ps(v)); }
Lanes lanes_between(Lanes x, float lo, float hi) {
  return _mm_and_ps(_mm_cmpgt_ps(x, _mm_set1_ps(lo)), _mm_cmplt_ps(x, _mm_set1_ps(hi)));
}
#else
struct Lanes {};
Lanes every_lane(Lanes) { return {}; }
Lanes lanes_above(Lanes, float) { return {}; }
Lanes lanes_equal(Lanes, float) { return {}; }
Lanes lanes_between(Lanes, float, float) { return {}; }
#endif

// Visits the allowed ids i < allowed_end in increasing order and returns the first for which
// accept(i) holds (allowed_end when none). `maybe` is a 4-lane pre-filter (SSE2 builds only) that
// must flag every lane accept() could take; accept() decides exactly, so the result never depends on
// the pre-filter, which only skips blocks of four ids quickly.
template <class Maybe, class Accept>
size_t find_allowed(std::span<const float> logits, TokenMask allowed, [[maybe_unused]] Maybe maybe,
                    Accept accept) {
  const size_t end = allowed_end(logits, allowed);
  size_t i = 0;
#if UM_SAMPLING_SSE2
  for (; i + 4 <= end; i += 4) {
    int bits = _mm_movemask_ps(_mm_and_ps(allowed_lanes(allowed, i), maybe(_mm_loadu_ps(logits.data() + i))));
    while (bits != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
      bits &= bits - 1;
      if (accept(at)) return at;
    }
  }
#endif
  for (; i < end; ++i) {
    if (is_allowed(allowed, i) && accept(i)) return i;
  }
  return end;
}

// How many ids are allowed, and their largest logit by `>` (NaN never; -inf when there is none).
struct RowScan {
  size_t total = 0;
  float max = kMinusInf;
};
RowScan scan_row(std::span<const float> logits, TokenMask allowed) {
  const size_t end = allowed_end(logits, allowed);
  RowScan r;
  size_t i = 0;
#if UM_SAMPLING_SSE2
  // maxps(x, m) is x > m ? x : m lane by lane, the scalar rule below (a NaN x keeps m); masked
  // lanes read -inf. The lane maxima combine with the same rule.
  const __m128 minus_inf = _mm_set1_ps(kMinusInf);
  __m128 mx = minus_inf;
  __m128i count = _mm_setzero_si128();
  for (; i + 4 <= end; i += 4) {
    const __m128 ok = allowed_lanes(allowed, i);
    const __m128 x = _mm_loadu_ps(logits.data() + i);
    mx = _mm_max_ps(_mm_or_ps(_mm_and_ps(ok, x), _mm_andnot_ps(ok, minus_inf)), mx);
    count = _mm_sub_epi32(count, _mm_castps_si128(ok));
  }
  alignas(16) float lane_max[4];
  alignas(16) uint32_t lane_count[4];
  _mm_store_ps(lane_max, mx);
  _mm_store_si128(reinterpret_cast<__m128i*>(lane_count), count);
  for (int j = 0; j < 4; ++j) {
    r.total += lane_count[j];
    if (lane_max[j] > r.max) r.max = lane_max[j];
  }
#endif
  for (; i < end; ++i) {
    if (!is_allowed(allowed, i)) continue;
    ++r.total;
    if (logits[i] > r.max) r.max = logits[i];
  }
  return r;
}

// Three 11-bit digit histograms of radix keys.
using Histograms = std::array<std::array<uint32_t, 2048>, 3>;
void count_key(uint32_t key, Histograms& h) {
  ++h[0][key & 2047u];
  ++h[1][(key >> 11) & 2047u];
  ++h[2][key >> 22];
}
void count_digits(const uint32_t* keys, size_t n, Histograms& h) {
  for (size_t i = 0; i < n; ++i) count_key(keys[i], h);
}

// The smallest float l that is not negligible, double(l) - mx >= kNegligible (monotone in l), so
// that the filter is one float comparison l >= threshold, false for NaN; NaN (nothing passes, as
// l - mx >= kNegligible never holds) when mx is not finite.
float negligible_threshold(double mx) {
  if (!std::isfinite(mx)) return std::numeric_limits<float>::quiet_NaN();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  auto passes = [mx](float l) { return static_cast<double>(l) - mx >= kNegligible; };
  float t = static_cast<float>(mx + kNegligible);
  while (!passes(t)) t = std::nextafter(t, kInf);                         // ends: +inf passes
  while (passes(std::nextafter(t, -kInf))) t = std::nextafter(t, -kInf);  // ends: -inf does not
  return t;
}

// The descending keys of the non-negligible candidates (allowed, scaled logit >= threshold) into
// out[0, n), in id order, and their digit histograms; returns n.
template <bool kUnit, bool kMasked>
size_t gather_keys(std::span<const float> logits, TokenMask allowed, double temperature, float threshold,
                   uint32_t* out, Histograms& h) {
  const size_t end = allowed_end(logits, allowed);
  size_t n = 0;
  for (size_t i = 0; i < end; ++i) {
    if constexpr (kMasked) {
      if (allowed[i] == 0) continue;
    }
    const float l = scaled<kUnit>(logits[i], temperature);
    if (!(l >= threshold)) continue;
    const uint32_t key = descending_key(l);
    out[n++] = key;
    count_key(key, h);
  }
  return n;
}
size_t gather_keys(std::span<const float> logits, TokenMask allowed, double temperature, float threshold,
                   uint32_t* out, Histograms& h) {
  const bool unit = temperature == 1.0;
  if (allowed.empty()) {
    return unit ? gather_keys<true, false>(logits, allowed, temperature, threshold, out, h)
                : gather_keys<false, false>(logits, allowed, temperature, threshold, out, h);
  }
  return unit ? gather_keys<true, true>(logits, allowed, temperature, threshold, out, h)
              : gather_keys<false, true>(logits, allowed, temperature, threshold, out, h);
}

// Sorts the keys a[0, n) ascending (the values descending) and returns where they are, a or b (b
// holds n entries): an LSD radix sort on 11-bit digits (three passes, O(n), h the keys' histograms)
// for long runs, std::sort for short ones.
const uint32_t* sort_keys(uint32_t* a, uint32_t* b, size_t n, Histograms& h) {
  if (n < 1024) {
    std::sort(a, a + n);
    return a;
  }
  uint32_t* src = a;
  uint32_t* dst = b;
  for (int pass = 0; pass < 3; ++pass) {
    const int shift = 11 * pass;
    auto& c = h[static_cast<size_t>(pass)];
    if (c[(src[0] >> shift) & 2047u] == n) continue;  // one digit value: this pass keeps the order
    uint32_t sum = 0;
    for (auto& x : c) {
      const uint32_t here = x;
      x = sum;
      sum += here;
    }
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {  // four independent loads ahead of the dependent stores
      const uint32_t k0 = src[i], k1 = src[i + 1], k2 = src[i + 2], k3 = src[i + 3];
      dst[c[(k0 >> shift) & 2047u]++] = k0;
      dst[c[(k1 >> shift) & 2047u]++] = k1;
      dst[c[(k2 >> shift) & 2047u]++] = k2;
      dst[c[(k3 >> shift) & 2047u]++] = k3;
    }
    for (; i < n; ++i) dst[c[(src[i] >> shift) & 2047u]++] = src[i];
    std::swap(src, dst);
  }
  return src;
}

// The k largest values (a multiset: which of equal values is taken does not matter) among the
// allowed logits above -inf, NaN excluded, into top (unordered; all of them when there are fewer).
// One pass with a rising threshold: a value not above the k-th largest seen so far cannot change
// the multiset of the k largest (an equal one only replaces an equal one).
void select_top(std::span<const float> logits, TokenMask allowed, size_t k, std::vector<float>& top) {
  const size_t cap = std::max<size_t>(4 * k, 256);
  top.clear();
  float threshold = kMinusInf;
  auto keep_k = [&] {
    std::nth_element(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k - 1), top.end(),
                     std::greater<float>());
    top.resize(k);
    threshold = top[k - 1];
  };
  find_allowed(
      logits, allowed, [&](Lanes x) { return lanes_above(x, threshold); },
      [&](size_t i) {
        if (logits[i] > threshold) {
          top.push_back(logits[i]);
          if (top.size() >= cap) keep_k();
        }
        return false;  // visit every id
      });
  if (top.size() > k) keep_k();
}

// The r-th lowest allowed id (r from 0) whose scaled logit equals v; allowed_end when there is none.
// x -> float(x / T) is monotone, so the floats it maps to v form an interval (lo, hi) found by
// stepping from a float near v * T; the scan then compares raw logits with the interval instead of
// dividing each one. Where the interval is wide (huge T, underflow) it divides each one.
size_t find_id(std::span<const float> logits, TokenMask allowed, double temperature, float v, size_t r) {
  auto f = [&](float x) { return scaled(x, temperature); };
  auto take = [&r](bool equal) {
    if (!equal) return false;
    if (r == 0) return true;
    --r;
    return false;
  };
  constexpr int kSteps = 64;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float x = static_cast<float>(static_cast<double>(v) * temperature);
  for (int step = 0; step < kSteps && f(x) != v; ++step) x = std::nextafter(x, f(x) < v ? kInf : -kInf);
  // lo: the first float below x that f maps below v (so do all below it); hi likewise above.
  float lo = x;
  float hi = x;
  for (int step = 0; step < kSteps && f(lo) == v; ++step) lo = std::nextafter(lo, -kInf);
  for (int step = 0; step < kSteps && f(hi) == v; ++step) hi = std::nextafter(hi, kInf);
  if (f(x) != v || f(lo) == v || f(hi) == v) {
    return find_allowed(logits, allowed, every_lane, [&](size_t i) { return take(f(logits[i]) == v); });
  }
  return find_allowed(
      logits, allowed, [&](Lanes x4) { return lanes_between(x4, lo, hi); },
      [&](size_t i) { return take(logits[i] > lo && logits[i] < hi); });
}

// The definition's probabilities of the sorted candidates, p_i = q[i] / d, divided on demand. Each
// renormalisation of the definition is one more division of every p_i by the stage's total; a stage
// stores the p_i it reads back into q (the same doubles) and sets d to its total, so each p_i costs
// one division when it is read and none when it is not. Pairs are divided by one two-lane division
// (SSE2 divpd: the same IEEE quotients as two scalar divisions); q has one entry of padding.
struct LazyProbabilities {
  double* q;
  double d;
  double operator()(size_t i) const { return q[i] / d; }
  double keep(size_t i) const { return q[i] = q[i] / d; }
  std::array<double, 2> pair(size_t i) const {
    std::array<double, 2> r;
#if UM_SAMPLING_SSE2
    _mm_storeu_pd(r.data(), _mm_div_pd(_mm_loadu_pd(q + i), _mm_set1_pd(d)));
#else
    r = {q[i] / d, q[i + 1] / d};
#endif
    return r;
  }
  void keep_pair(size_t i) const {
    const std::array<double, 2> r = pair(i);
    q[i] = r[0];
    q[i + 1] = r[1];
  }
};

struct Scratch {
  std::vector<uint32_t> a, b;  // radix keys
  std::vector<float> top;      // top_k's selection
  std::vector<double> q;       // exp, then probabilities
};
}  // namespace

int32_t argmax(std::span<const float> logits, TokenMask allowed) {
  if (logits.empty()) throw util::Error("argmax of an empty logits row");
  // The definition keeps the first allowed id and replaces it by any later one with a larger logit:
  // the first id holding the largest non-NaN logit, unless the first allowed logit is NaN (nothing
  // is larger than NaN), which then stays.
  const size_t end = allowed_end(logits, allowed);
  const size_t first = find_allowed(logits, allowed, every_lane, [](size_t) { return true; });
  if (first == end) throw util::Error("no allowed token id to choose from");
  if (std::isnan(logits[first])) return static_cast<int32_t>(first);
  const float mx = scan_row(logits, allowed).max;
  return static_cast<int32_t>(find_allowed(
      logits, allowed, [&](Lanes x) { return lanes_equal(x, mx); },
      [&](size_t i) { return logits[i] == mx; }));
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
// the same order on the candidates that can matter (see kNegligible). The sorted values: for top_k,
// a one-pass selection of the k largest raw logits (x -> float(x / T) is monotone, so they scale to
// the k largest scaled ones) sorted; otherwise the descending keys of all non-negligible scaled
// logits, radix-sorted, because the normaliser's running sum must add them in descending order to be
// bit-identical. Ids are only needed for the drawn position: the r-th of a run of equal values is the
// r-th lowest id with that value (top_k's partial sort keeps the lowest ids of a tie as well).
int32_t sample(std::span<const float> logits, const SamplingParams& params, util::Rng& rng,
               TokenMask allowed) {
  const double temperature = params.temperature;
  if (temperature <= 0.0) return argmax(logits, allowed);
  if (!(temperature > 0)) throw util::Error("temperature must be > 0 here", {.field = "temperature"});
  const bool by_top_k = params.top_k > 0;
  const RowScan row = scan_row(logits, allowed);
  if (row.total == 0) throw util::Error("no candidates to sample from");
  const double u = rng.uniform01();
  const size_t k = by_top_k && static_cast<size_t>(params.top_k) < row.total
                       ? static_cast<size_t>(params.top_k)
                       : row.total;

  thread_local Scratch s;
  const uint32_t* keys = nullptr;  // the candidates that can matter, ascending keys (values descending)
  size_t m = 0;
  if (k < row.total) {
    select_top(logits, allowed, k, s.top);
    float raw_max = kMinusInf;
    for (const float x : s.top) raw_max = std::max(raw_max, x);
    const float threshold = negligible_threshold(scaled(raw_max, temperature));
    s.a.resize(s.top.size());
    s.b.resize(s.top.size());
    Histograms h{};
    for (const float x : s.top) {
      const float l = scaled(x, temperature);
      if (l >= threshold) s.a[m++] = descending_key(l);
    }
    count_digits(s.a.data(), m, h);
    keys = sort_keys(s.a.data(), s.b.data(), m, h);
  } else {
    // The largest scaled logit is the scaled largest logit: x -> float(x / T) is monotone for T > 0.
    const float threshold = negligible_threshold(scaled(row.max, temperature));
    const size_t end = allowed_end(logits, allowed);
    s.a.resize(end);
    s.b.resize(end);
    Histograms h{};
    m = gather_keys(logits, allowed, temperature, threshold, s.a.data(), h);
    keys = sort_keys(s.a.data(), s.b.data(), m, h);
  }
  if (m == 0) return chain_by_sorting(logits, params, allowed, u);  // no finite maximum
  bool tail = k > m;  // the definition keeps candidates beyond the ones here (all negligible)

  // softmax: exp of each value (computed once per run of equal keys: the same argument gives the
  // same double), summed in descending order.
  s.q.resize(m + 1);
  s.q[m] = 0;  // padding for pairs
  const double top = from_descending_key(keys[0]);
  double sum = 0;
  uint32_t last_key = ~keys[0];
  double last_e = 0;
  for (size_t i = 0; i < m; ++i) {
    if (keys[i] != last_key) {
      last_key = keys[i];
      last_e = std::exp(static_cast<double>(from_descending_key(keys[i])) - top);
    }
    s.q[i] = last_e;
    sum += last_e;
  }
  LazyProbabilities p{s.q.data(), sum};

  // The stages run under the definition's conditions, NaN parameters included: top_p unless
  // top_p >= 1, min_p unless min_p <= 0.
  if (!(params.top_p >= 1.0)) {
    // The renormaliser Σ p[0, keep) adds the same p_i from 0 in the same order as cum: it is cum.
    double cum = 0;
    size_t keep = 0;
    bool reached = false;
    while (keep < m) {
      if (keep % 2 == 0) p.keep_pair(keep);  // this p_i and the next (or the padding)
      cum += p.q[keep];
      ++keep;
      if (cum >= params.top_p) {
        reached = true;
        break;
      }
    }
    if (!reached && tail) return chain_by_sorting(logits, params, allowed, u);
    if (reached) tail = false;
    m = keep;
    p.d = cum;
  }
  if (!(params.min_p <= 0.0)) {
    // The renormaliser (0 + p_0) + p_1 + ... over the kept prefix, summed while scanning it.
    const double first = p.keep(0);
    const double cut = params.min_p * first;
    double kept = first;
    size_t keep = 1;
    while (keep < m) {
      const double pk = p(keep);
      if (!(pk >= cut)) break;
      p.q[keep++] = pk;
      kept += pk;
    }
    if (keep == m && tail) return chain_by_sorting(logits, params, allowed, u);
    tail = false;
    m = keep;
    p.d = kept;
  }
  size_t pos = m;
  double left = u;
  for (size_t i = 0; i < m; i += 2) {
    const std::array<double, 2> pi = p.pair(i);
    if (left < pi[0]) {
      pos = i;
      break;
    }
    left -= pi[0];
    if (i + 1 == m) break;
    if (left < pi[1]) {
      pos = i + 1;
      break;
    }
    left -= pi[1];
  }
  if (pos == m) {
    if (tail) return chain_by_sorting(logits, params, allowed, u);
    pos = m - 1;  // rounding left a sliver of mass
  }
  size_t rank = 0;
  while (rank < pos && keys[pos - rank - 1] == keys[pos]) ++rank;
  const size_t id = find_id(logits, allowed, temperature, from_descending_key(keys[pos]), rank);
  if (id == allowed_end(logits, allowed)) {
    throw util::Error("sampling: drawn value not among the candidates (internal error)");
  }
  return static_cast<int32_t>(id);
}

}  // namespace um::model
