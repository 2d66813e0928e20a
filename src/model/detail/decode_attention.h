#pragma once
// Attention for a decode step: every segment appends exactly one token. One call per layer does, for
// all sequences and KV heads in parallel, what the general path does with ~12 tensor ops per
// sequence (write K/V, scores, mask-free softmax, weighted sum) — at batch 10 that dispatch overhead
// rivalled the weight streaming. Same rounding points as the general path and HF eager attention:
// q·k rounded to the model dtype, scaled and soft-maxed in f32, probabilities rounded to the dtype,
// the weighted sum of V accumulated in f32 and rounded once.
// Internal to src/model (includes ATen).
#include <ATen/ATen.h>

#include <vector>

#include "model/detail/forward.h"

namespace um::model::detail {

// Raw pointers and element strides of one decode step's attention: row i of q/k/v is segment i.
template <typename T>
struct AttentionStep {
  const T *q, *k, *v;
  int64_t q_row, q_head, k_row, k_head, v_row, v_head;
  T* out;  // [N, heads·d] contiguous
  int64_t heads, kv_heads, d;
  float scale;
};

// Tasks [b, e) of a bf16 decode step's attention on the calling thread, task t = (segment t / kv_heads,
// KV head t % kv_heads): for callers that run their own parallel loop (the fused decode step).
void decode_attention_range(const AttentionStep<c10::BFloat16>& step, const std::vector<Segment>& segs,
                            size_t layer, int64_t b, int64_t e);

// q [N, heads, d], k and v [N, kv_heads, d] (N = segs.size(), one row per segment, any strides with
// a contiguous last dimension); writes k/v at position len of each segment's layer-`layer` cache and
// [N, heads·d] into `out` (contiguous). The cache must already have room (reserve()).
void decode_attention(const std::vector<Segment>& segs, size_t layer, const at::Tensor& q,
                      const at::Tensor& k, const at::Tensor& v, at::Tensor& out);

}  // namespace um::model::detail
