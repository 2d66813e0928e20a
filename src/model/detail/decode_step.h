#pragma once
// The decoder layers of a bf16 decode step (every segment appends one token) in one parallel region.
// The per-layer libtorch path costs ~40 dispatched operators and 5 thread wake-ups per layer; with
// OMP_WAIT_POLICY=PASSIVE (model_load.cpp) each wake-up is a futex round trip, and at batch 1 the
// 0.5B model's 24 layers spent ~1/3 of a 30 ms step outside the weight streaming. Here the team is
// woken once per step and the phases of a layer (norm, q/k/v + bias + q/k-norm + RoPE, attention, o +
// residual, norm, gate/up + SiLU·up, down + residual) are separated by a spinning barrier.
//
// Same rounding points as the general path (forward.cpp): every elementwise operator rounds its
// result to bf16 as libtorch's bf16 kernels do, projections accumulate in f32 and round once
// (small_batch_linear.h), RMSNorm normalises in f32. Only the order of the f32 sums inside RMSNorm and
// the exp inside SiLU may differ from libtorch's vectorised kernels (last-ulp f32 differences that
// occasionally move a bf16 rounding). Each row's result is independent of the batch, so a batched
// step is bit-identical to single-sequence steps.
// Internal to src/model (includes ATen).
#include <ATen/ATen.h>

#include <vector>

#include "model/detail/forward.h"

namespace um::model::detail {

// Whether the model's weights fit the fused step: bf16 compute, stored (not transposed) dense bf16
// weights and norms, an even head_dim ≤ 512. Evaluated once at load (Model::Impl::fused_decode_weights).
bool fused_decode_weights_fit(const Model::Impl& m);

// Whether forward() can run this step fused: the weights fit, AVX-512 BF16 available, decode kernels
// on, 1..kSmallBatchMaxRows segments of one token each.
bool fused_decode_applicable(const Model::Impl& m, const std::vector<Segment>& segs);

// Runs every decoder layer for the step. x [N, H] bf16 contiguous (the embeddings; replaced in place
// by the last layer's output), cos and sin [N, 1, head_dim] bf16 contiguous (RoPE of each row's
// position). Writes each segment's K/V at position len (the caller reserved room, and advances len).
void fused_decode_layers(const Model::Impl& m, const std::vector<Segment>& segs, at::Tensor& x,
                         const at::Tensor& cos, const at::Tensor& sin);

// Tests: false makes fused_decode_applicable() answer false (the per-operator path), to compare both
// in one process. Returns the previous value.
bool set_fused_decode_enabled(bool enabled);

}  // namespace um::model::detail
