#pragma once
// Machine limits and layout variants for bench/model_*_bench.cpp, measured with the same libtorch
// kernels the engine uses (torch stays inside src/model). Built as um_model_bench, which only the
// benchmarks link; it is not part of um_model.
#include <cstdint>
#include <filesystem>
#include <memory>

#include "model/model.h"

namespace um::model::bench {

// GEMM throughput of at::matmul on n×n×n in `dtype` (GFLOP/s, best of `reps`).
double gemm_gflops(DType dtype, int64_t n = 2048, int reps = 3);
// Read bandwidth of at::sum over a `bytes`-sized float32 tensor (GB/s, best of `reps`).
double read_bandwidth_gbs(size_t bytes = size_t{1} << 30, int reps = 5);
// Loads with weights kept as stored ([out, in] views over the mapping, at::linear), whatever
// opts.pretranspose says.
std::shared_ptr<const Model> load_stored_layout(const std::filesystem::path& dir, const LoadOptions& opts);
// Weight bytes one decode step reads (every projection + the output matrix), and the matmul FLOPs
// per token (2 × those parameters, attention excluded).
double weight_bytes_per_token(const Model& m);
double matmul_flops_per_token(const Model& m, bool with_lm_head);
// Seconds per call (best of `reps`) of one bf16 projection y = x·Wᵀ with x [M, K], W [N, K] (weights
// larger than the caches, so every call streams them from memory), in one of three formulations.
// Kernel throws when the CPU lacks AVX-512 BF16.
enum class Projection { Kernel, Linear, MatmulTransposed };
bool small_batch_kernel_available();
double small_batch_linear_seconds(int64_t M, int64_t N, int64_t K, Projection how, int reps = 20);

}  // namespace um::model::bench
