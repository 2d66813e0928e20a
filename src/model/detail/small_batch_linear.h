#pragma once
// y = x · Wᵀ for a few rows of x (decode steps: one row per sequence) with bf16 weights, written for
// AVX-512 BF16. Decode is memory-bound: each weight byte is read once per step, and the kernel's only
// job is to stream W at the machine's bandwidth while doing up to kSmallBatchMaxRows dot products per
// weight element (libtorch 1.13's one-row bf16 linear reads weights at ~15-17 GB/s, perf-facts.md).
// Internal to src/model (includes ATen).
#include <ATen/ATen.h>

#include <vector>

namespace um::model::detail {

// Largest x row count the kernel takes; above it a GEMM (oneDNN) is the better tool. Measured on the
// 0.5B shape's 4864×896 projection (BM_SmallBatchLinear): 32 rows 0.82 ms vs 1.04 ms for at::linear,
// 64 rows equal (1.54 ms); a 64-token prefill block 5 % faster end to end.
inline constexpr int64_t kSmallBatchMaxRows = 64;

// UM_NO_DECODE_KERNELS=1 in the environment turns off this kernel and the decode attention
// (decode_attention.h), for A/B comparisons against the plain libtorch path. Read once.
bool decode_kernels_disabled();

// True when this CPU has AVX-512 BF16 (checked once) and decode kernels are not disabled.
bool small_batch_kernel_available();

// One projection of a fused call: W [N, K] bf16 contiguous, y [M, N] bf16 contiguous (written).
struct SmallBatchOutput {
  const at::Tensor* w;
  at::Tensor* y;
};

// Whether x [M, K] and W [N, K] qualify (bf16, contiguous, M ≤ kSmallBatchMaxRows, CPU).
bool small_batch_qualifies(const at::Tensor& x, const at::Tensor& w);

// y_i = x · W_iᵀ for every output, in one parallel region (the projections that read the same x —
// q/k/v, gate/up — share one thread wake-up). f32 accumulation, bf16 result rounded to nearest even,
// as oneDNN's bf16 GEMM does. Callers check small_batch_kernel_available() and
// small_batch_qualifies() first.
void small_batch_linear(const at::Tensor& x, const std::vector<SmallBatchOutput>& outs);

// Rows [n0, n1) of y = x · Wᵀ on raw bf16 bits, on the calling thread: x [M, K], W [N, K] and y [M, N]
// contiguous (y's row stride is N). For callers that run their own parallel loop (the fused decode
// step); same results as small_batch_linear.
void small_batch_rows(const uint16_t* x, int64_t M, int64_t K, const uint16_t* w, uint16_t* y, int64_t N,
                      int64_t n0, int64_t n1);

}  // namespace um::model::detail
