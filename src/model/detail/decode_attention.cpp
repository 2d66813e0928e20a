#include "model/detail/decode_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/detail/dot16.h"

namespace um::model::detail {

namespace {

template <typename T>
inline T from_f32(float x) {
  return static_cast<T>(x);
}

template <typename T>
using Step = AttentionStep<T>;

// One (segment, KV head) task: write its K/V row, then attend for the group's query heads.
// `scores` has room for the sequence's length + 1.
template <typename T>
__attribute__((always_inline)) inline void task(const Step<T>& st, const Segment& seg, size_t layer,
                                                int64_t i, int64_t j, std::vector<float>& scores,
                                                std::vector<float>& acc) {
  const int64_t d = st.d, cap = seg.kv->cap, len = seg.kv->len, L = len + 1;
  T* K = seg.kv->k[layer].template data_ptr<T>() + j * cap * d;
  T* V = seg.kv->v[layer].template data_ptr<T>() + j * cap * d;
  std::copy_n(st.k + i * st.k_row + j * st.k_head, d, K + len * d);
  std::copy_n(st.v + i * st.v_row + j * st.v_head, d, V + len * d);
  const int64_t g = st.heads / st.kv_heads;
  for (int64_t h = j * g; h < (j + 1) * g; ++h) {
    const T* qh = st.q + i * st.q_row + h * st.q_head;
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t t = 0; t < L; ++t) {
      const T* kt = K + t * d;
      const float s = dot16(qh, kt, d);
      scores[static_cast<size_t>(t)] = to_f32(from_f32<T>(s)) * st.scale;
      mx = std::max(mx, scores[static_cast<size_t>(t)]);
    }
    float sum = 0;
    for (int64_t t = 0; t < L; ++t)
      sum += (scores[static_cast<size_t>(t)] = std::exp(scores[static_cast<size_t>(t)] - mx));
    std::fill_n(acc.begin(), d, 0.0f);
    for (int64_t t = 0; t < L; ++t) {
      const float p = to_f32(from_f32<T>(scores[static_cast<size_t>(t)] / sum));
      const T* vt = V + t * d;
      for (int64_t e = 0; e < d; ++e) acc[static_cast<size_t>(e)] += p * to_f32(vt[e]);
    }
    T* o = st.out + i * st.heads * d + h * d;
    for (int64_t e = 0; e < d; ++e) o[e] = from_f32<T>(acc[static_cast<size_t>(e)]);
  }
}

// The per-range loops, compiled for AVX-512 and for the baseline ISA (chosen at load time).
template <typename T>
__attribute__((always_inline)) inline void run_range(const Step<T>& st, const std::vector<Segment>& segs,
                                                     size_t layer, int64_t b, int64_t e) {
  int64_t longest = 0;
  for (int64_t t = b; t < e; ++t)
    longest = std::max(longest, segs[static_cast<size_t>(t / st.kv_heads)].kv->len);
  std::vector<float> scores(static_cast<size_t>(longest + 1)), acc(static_cast<size_t>(st.d));
  for (int64_t t = b; t < e; ++t)
    task(st, segs[static_cast<size_t>(t / st.kv_heads)], layer, t / st.kv_heads, t % st.kv_heads, scores,
         acc);
}

__attribute__((target_clones("arch=x86-64-v4", "default"))) void run_range_bf16(
    const Step<c10::BFloat16>& st, const std::vector<Segment>& segs, size_t layer, int64_t b, int64_t e) {
  run_range(st, segs, layer, b, e);
}
__attribute__((target_clones("arch=x86-64-v4", "default"))) void run_range_f32(
    const Step<float>& st, const std::vector<Segment>& segs, size_t layer, int64_t b, int64_t e) {
  run_range(st, segs, layer, b, e);
}

}  // namespace

void decode_attention_range(const AttentionStep<c10::BFloat16>& step, const std::vector<Segment>& segs,
                            size_t layer, int64_t b, int64_t e) {
  run_range_bf16(step, segs, layer, b, e);
}

namespace {

template <typename T>
Step<T> make_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, at::Tensor& out) {
  return {q.data_ptr<T>(), k.data_ptr<T>(),
          v.data_ptr<T>(), q.stride(0),
          q.stride(1),     k.stride(0),
          k.stride(1),     v.stride(0),
          v.stride(1),     out.data_ptr<T>(),
          q.size(1),       k.size(1),
          q.size(2),       static_cast<float>(1.0 / std::sqrt(static_cast<double>(q.size(2))))};
}

}  // namespace

void decode_attention(const std::vector<Segment>& segs, size_t layer, const at::Tensor& q_in,
                      const at::Tensor& k_in, const at::Tensor& v_in, at::Tensor& out) {
  auto dense_rows = [](const at::Tensor& t) { return t.stride(2) == 1 ? t : t.contiguous(); };
  const at::Tensor q = dense_rows(q_in), k = dense_rows(k_in), v = dense_rows(v_in);
  const int64_t tasks = static_cast<int64_t>(segs.size()) * k.size(1);
  // Small steps run on the calling thread: waking the pool costs more than ~64k multiply-adds.
  int64_t work = 0;
  for (const Segment& s : segs) work += (s.kv->len + 1) * q.size(1) * q.size(2) * 2;
  const int64_t grain = work < (int64_t{1} << 16) ? tasks : 1;
  if (q.scalar_type() == at::kBFloat16) {
    const auto st = make_step<c10::BFloat16>(q, k, v, out);
    at::parallel_for(0, tasks, grain, [&](int64_t b, int64_t e) { run_range_bf16(st, segs, layer, b, e); });
  } else {
    const auto st = make_step<float>(q, k, v, out);
    at::parallel_for(0, tasks, grain, [&](int64_t b, int64_t e) { run_range_f32(st, segs, layer, b, e); });
  }
}

}  // namespace um::model::detail
