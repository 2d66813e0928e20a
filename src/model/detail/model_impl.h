#pragma once
// Torch-side state of a loaded model. Internal to src/model (includes ATen).
#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "model/model.h"
#include "model/safetensors.h"

namespace um::model {

// y = x Wᵀ (+ b). Weights are either the [out, in] tensor as stored (a view over the memory mapping,
// used with at::linear) or a pre-transposed contiguous [in, out] copy used with at::matmul, which
// is an order of magnitude faster for bf16 at small batch on oneDNN (perf-facts.md).
struct Linear {
  at::Tensor w;  // [out, in] (stored) or [in, out] (transposed)
  at::Tensor b;  // [out] or undefined
  bool transposed = false;
  // Few rows of bf16 x on the stored layout go through the AVX-512 BF16 kernel (decode).
  at::Tensor operator()(const at::Tensor& x) const { return project(x, {this}).front(); }
  // The same x through several projections; the small-batch kernel does them in one parallel region.
  static std::vector<at::Tensor> project(const at::Tensor& x, const std::vector<const Linear*>& ls);
  int64_t out_features() const { return transposed ? w.size(1) : w.size(0); }
};

struct LayerWeights {
  at::Tensor input_norm, post_norm;  // [H]
  at::Tensor q_norm, k_norm;         // [head_dim] (Qwen3) or undefined
  // Fused projections when transposed: qkv = [q | k | v] columns, gate_up = [gate | up] columns.
  bool fused = false;
  Linear qkv, q, k, v, o;
  Linear gate_up, gate, up, down;
};

struct Model::Impl {
  ModelConfig config;
  DType dtype = DType::BF16;
  at::ScalarType scalar = at::kBFloat16;
  std::unique_ptr<SafetensorsSet> files;  // keeps the mappings alive for from_blob views
  at::Tensor embed;                       // [V, H]
  Linear lm_head;                         // may share storage with embed (tied)
  at::Tensor final_norm;                  // [H]
  std::vector<LayerWeights> layers;
  at::Tensor inv_freq;  // [head_dim / 2] float32, rope scaling applied
  // Every layer's weights fit the fused bf16 decode step (detail/decode_step.h); set at load.
  bool fused_decode_weights = false;
};

// Loader options beyond the public ones (benchmarks compare layouts).
enum class WeightLayout { Stored, Transposed };
std::shared_ptr<const Model> load_model_with_layout(const std::filesystem::path& dir, const LoadOptions& opts,
                                                    WeightLayout layout);

}  // namespace um::model
