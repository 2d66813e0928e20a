#include "model/detail/decode_step.h"

#include <ATen/Parallel.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

#include "model/detail/decode_attention.h"
#include "model/detail/dot16.h"
#include "model/detail/small_batch_linear.h"

namespace um::model::detail {

namespace {

std::atomic<bool> g_enabled{true};

using bits = uint16_t;  // a bf16 value as stored

inline float f32(bits b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline bits bf16(float f) { return c10::BFloat16(f).x; }

// A barrier whose waiters spin (with PAUSE) for a while before yielding: the phases it separates last
// 10–500 µs, far less than a futex sleep and wake-up round trip on a virtual machine.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait() {
    const unsigned gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.store(gen + 1, std::memory_order_release);
      return;
    }
    for (unsigned i = 0; gen_.load(std::memory_order_acquire) == gen; ++i) {
      if (i < kSpins) {
        _mm_pause();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static constexpr unsigned kSpins = 1u << 16;
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<unsigned> gen_{0};
};

// [b, e) of n items for thread t of nt, with boundaries on multiples of `align`.
std::pair<int64_t, int64_t> share(int64_t n, int t, int nt, int64_t align) {
  auto cut = [&](int i) { return i >= nt ? n : std::min(n, n * i / nt / align * align); };
  return {cut(t), cut(t + 1)};
}

// HF LlamaRMSNorm of one row: y = w · bf16(x · rsqrt(mean(x²) + eps)), the mean taken in f32.
__attribute__((always_inline)) inline void rms_norm_row(const bits* x, const bits* w, float eps, int64_t n,
                                                        bits* y) {
  const auto* xb = reinterpret_cast<const c10::BFloat16*>(x);
  const float r = 1.0f / std::sqrt(dot16(xb, xb, n) / static_cast<float>(n) + eps);
  for (int64_t e = 0; e < n; ++e) y[e] = bf16(f32(w[e]) * f32(bf16(f32(x[e]) * r)));
}

// In place: x·cos + rotate_half(x)·sin, each product and the sum rounded to bf16.
void rope_row(bits* x, const bits* cos, const bits* sin, int64_t d) {
  const int64_t half = d / 2;
  for (int64_t e = 0; e < half; ++e) {
    const float x1 = f32(x[e]), x2 = f32(x[e + half]);
    const bits lo = bf16(f32(bf16(x1 * f32(cos[e]))) + f32(bf16(-x2 * f32(sin[e]))));
    const bits hi = bf16(f32(bf16(x2 * f32(cos[e + half]))) + f32(bf16(x1 * f32(sin[e + half]))));
    x[e] = lo;
    x[e + half] = hi;
  }
}

struct Weights {
  const bits *in_norm, *post_norm, *q_norm, *k_norm;
  const bits *wq, *wk, *wv, *bq, *bk, *bv, *wo, *wg, *wu, *wd;
};

const bits* raw(const at::Tensor& t) {
  return t.defined() ? reinterpret_cast<const bits*>(t.data_ptr<at::BFloat16>()) : nullptr;
}
bits* raw_mut(at::Tensor& t) { return reinterpret_cast<bits*>(t.data_ptr<at::BFloat16>()); }

bool bf16_dense(const at::Tensor& t) {
  return !t.defined() || (t.scalar_type() == at::kBFloat16 && t.is_contiguous() && t.device().is_cpu());
}
bool stored(const Linear& l) { return !l.transposed && l.w.defined() && bf16_dense(l.w) && bf16_dense(l.b); }

// The elementwise kernels, compiled for AVX-512 and the baseline ISA (chosen at load time).
__attribute__((target_clones("arch=x86-64-v4", "default"))) void norm_rows(const bits* x, const bits* w,
                                                                           float eps, int64_t n, bits* y,
                                                                           int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) rms_norm_row(x + r * n, w, eps, n, y + r * n);
}

// x += t (rounded), then y = RMSNorm(x), for rows [r0, r1).
__attribute__((target_clones("arch=x86-64-v4", "default"))) void residual_norm_rows(bits* x, const bits* t,
                                                                                    const bits* w, float eps,
                                                                                    int64_t n, bits* y,
                                                                                    int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t e = 0; e < n; ++e) x[r * n + e] = bf16(f32(x[r * n + e]) + f32(t[r * n + e]));
    if (w != nullptr) rms_norm_row(x + r * n, w, eps, n, y + r * n);
  }
}

// act = SiLU(g) · u with libtorch's bf16 rounding points, for columns [c0, c1) of M rows of width n.
__attribute__((target_clones("arch=x86-64-v4", "default"))) void silu_mul(const bits* g, const bits* u,
                                                                          bits* act, int64_t M, int64_t n,
                                                                          int64_t c0, int64_t c1) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t e = m * n + c0; e < m * n + c1; ++e) {
      // libtorch 1.13's bf16 SiLU rounds after each operator: exp(-x), 1 + ·, x / ·.
      const float a = f32(g[e]);
      const float den = f32(bf16(1.0f + f32(bf16(std::exp(-a)))));
      act[e] = bf16(f32(bf16(a / den)) * f32(u[e]));
    }
  }
}

// Bias, q/k RMSNorm and RoPE of one projected head for every row: y is [M, ldy], the head's columns
// start at col.
__attribute__((target_clones("arch=x86-64-v4", "default"))) void finish_head(
    bits* y, int64_t ldy, int64_t col, int64_t M, int64_t d, const bits* bias, const bits* norm, float eps,
    bool rope, const bits* cos, const bits* sin) {
  bits tmp[512];
  for (int64_t m = 0; m < M; ++m) {
    bits* h = y + m * ldy + col;
    if (bias != nullptr) {
      for (int64_t e = 0; e < d; ++e) h[e] = bf16(f32(h[e]) + f32(bias[col + e]));
    }
    if (norm != nullptr) {
      std::copy_n(h, d, tmp);
      rms_norm_row(tmp, norm, eps, d, h);
    }
    if (rope) rope_row(h, cos + m * d, sin + m * d, d);
  }
}

}  // namespace

bool set_fused_decode_enabled(bool enabled) { return g_enabled.exchange(enabled); }

bool fused_decode_applicable(const Model::Impl& m, const std::vector<Segment>& segs) {
  if (!g_enabled.load() || !m.fused_decode_weights || !small_batch_kernel_available()) return false;
  if (segs.empty() || static_cast<int64_t>(segs.size()) > kSmallBatchMaxRows) return false;
  for (const auto& s : segs) {
    if (s.tokens.size() != 1) return false;
  }
  return true;
}

bool fused_decode_weights_fit(const Model::Impl& m) {
  if (m.scalar != at::kBFloat16 || m.config.head_dim > 512 || m.config.head_dim % 2 != 0) return false;
  for (const auto& w : m.layers) {
    if (w.fused || !stored(w.q) || !stored(w.k) || !stored(w.v) || !stored(w.o) || !stored(w.gate) ||
        !stored(w.up) || !stored(w.down) || !bf16_dense(w.input_norm) || !bf16_dense(w.post_norm) ||
        !bf16_dense(w.q_norm) || !bf16_dense(w.k_norm))
      return false;
  }
  return true;
}

void fused_decode_layers(const Model::Impl& m, const std::vector<Segment>& segs, at::Tensor& x,
                         const at::Tensor& cos, const at::Tensor& sin) {
  const ModelConfig& c = m.config;
  const int64_t M = static_cast<int64_t>(segs.size()), H = c.hidden_size, nh = c.num_heads,
                kvh = c.num_kv_heads, d = c.head_dim, I = c.intermediate_size;
  const float eps = static_cast<float>(c.rms_norm_eps);
  auto opts = x.options();
  at::Tensor h = at::empty({M, H}, opts), q = at::empty({M, nh * d}, opts), k = at::empty({M, kvh * d}, opts),
             v = at::empty({M, kvh * d}, opts), attn = at::empty({M, nh * d}, opts),
             t = at::empty({M, H}, opts), g = at::empty({M, I}, opts), u = at::empty({M, I}, opts),
             act = at::empty({M, I}, opts);
  bits *xp = raw_mut(x), *hp = raw_mut(h), *qp = raw_mut(q), *kp = raw_mut(k), *vp = raw_mut(v),
       *ap = raw_mut(attn), *tp = raw_mut(t), *gp = raw_mut(g), *up = raw_mut(u), *actp = raw_mut(act);
  const bits *cosp = raw(cos), *sinp = raw(sin);

  std::vector<Weights> ws;
  ws.reserve(m.layers.size());
  for (const auto& w : m.layers) {
    ws.push_back({raw(w.input_norm), raw(w.post_norm), raw(w.q_norm), raw(w.k_norm), raw(w.q.w), raw(w.k.w),
                  raw(w.v.w), raw(w.q.b), raw(w.k.b), raw(w.v.b), raw(w.o.w), raw(w.gate.w), raw(w.up.w),
                  raw(w.down.w)});
  }
  const auto* cq = reinterpret_cast<const c10::BFloat16*>(qp);
  const AttentionStep<c10::BFloat16> step{cq,
                                          reinterpret_cast<const c10::BFloat16*>(kp),
                                          reinterpret_cast<const c10::BFloat16*>(vp),
                                          nh * d,
                                          d,
                                          kvh * d,
                                          d,
                                          kvh * d,
                                          d,
                                          reinterpret_cast<c10::BFloat16*>(ap),
                                          nh,
                                          kvh,
                                          d,
                                          static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))};

  const int nt = at::in_parallel_region() ? 1 : std::max(1, at::get_num_threads());
  const int64_t heads = nh + 2 * kvh, layers = static_cast<int64_t>(ws.size());
  std::optional<SpinBarrier> bar;  // sized by the team libgomp actually gives
#pragma omp parallel num_threads(nt)
  {
    const int team = omp_get_num_threads(), tid = omp_get_thread_num();
#pragma omp single
    bar.emplace(team);  // the implicit barrier after `single` publishes it
    const auto [r0, r1] = share(M, tid, team, 1);
    norm_rows(xp, ws[0].in_norm, eps, H, hp, r0, r1);
    for (int64_t l = 0; l < layers; ++l) {
      const Weights& w = ws[static_cast<size_t>(l)];
      bar->wait();
      // q/k/v by whole heads, so this thread finishes (bias, q/k-norm, RoPE) the heads it projected.
      const auto [h0, h1] = share(heads, tid, team, 1);
      for (int64_t hh = h0; hh < h1; ++hh) {
        const bool is_q = hh < nh, is_k = !is_q && hh < nh + kvh;
        const int64_t head = is_q ? hh : is_k ? hh - nh : hh - nh - kvh, N = (is_q ? nh : kvh) * d;
        const bits* wt = is_q ? w.wq : is_k ? w.wk : w.wv;
        const bits* bias = is_q ? w.bq : is_k ? w.bk : w.bv;
        bits* y = is_q ? qp : is_k ? kp : vp;
        small_batch_rows(hp, M, H, wt, y, N, head * d, (head + 1) * d);
        const bits* norm = is_q ? w.q_norm : is_k ? w.k_norm : nullptr;
        finish_head(y, N, head * d, M, d, bias, norm, eps, is_q || is_k, cosp, sinp);
      }
      bar->wait();
      const auto [a0, a1] = share(M * kvh, tid, team, 1);
      if (a0 < a1) decode_attention_range(step, segs, static_cast<size_t>(l), a0, a1);
      bar->wait();
      const auto [o0, o1] = share(H, tid, team, 8);
      if (o0 < o1) small_batch_rows(ap, M, nh * d, w.wo, tp, H, o0, o1);
      bar->wait();
      residual_norm_rows(xp, tp, w.post_norm, eps, H, hp, r0, r1);
      bar->wait();
      const auto [i0, i1] = share(I, tid, team, 8);
      if (i0 < i1) {
        small_batch_rows(hp, M, H, w.wg, gp, I, i0, i1);
        small_batch_rows(hp, M, H, w.wu, up, I, i0, i1);
        silu_mul(gp, up, actp, M, I, i0, i1);
      }
      bar->wait();
      if (o0 < o1) small_batch_rows(actp, M, I, w.wd, tp, H, o0, o1);
      bar->wait();
      const bits* next_norm = l + 1 < layers ? ws[static_cast<size_t>(l + 1)].in_norm : nullptr;
      residual_norm_rows(xp, tp, next_norm, eps, H, hp, r0, r1);
    }
  }
}

}  // namespace um::model::detail
