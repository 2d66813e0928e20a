#pragma once
// The trainable causal LM: the decoder of model/ (Llama, Qwen2, Qwen3, Mistral) as autograd
// tensors with optional LoRA adapters. Internal to src/train (includes torch).
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "train/train.h"

namespace um::train::detail {

// y = x Wᵀ (+ b) (+ scale · dropout(x) Aᵀ Bᵀ). W/b are the master weights, A [r, in], B [out, r].
struct LoraLinear {
  torch::Tensor w, b;
  torch::Tensor a, bm;
  double scale = 0.0;
  double dropout = 0.0;
  torch::Tensor forward(const torch::Tensor& x, torch::ScalarType compute, bool training) const;
  torch::Tensor merged() const;  // W + scale · B A (detached)
};

struct Layer {
  torch::Tensor input_norm, post_norm, q_norm, k_norm;
  LoraLinear q, k, v, o, gate, up, down;
};

struct LmOptions {
  torch::ScalarType master = torch::kFloat;   // kDouble for gradient checks
  torch::ScalarType compute = torch::kFloat;  // kBFloat16 casts inside the forward
  LoraOptions lora;
  bool activation_checkpointing = false;
  uint64_t seed = 0;  // LoRA A initialisation
};

class CausalLM {
 public:
  // Loads config.json + safetensors from `dir` (any stored dtype, converted to `master`).
  CausalLM(const std::filesystem::path& dir, const LmOptions& opts);

  const model::ModelConfig& config() const { return cfg_; }
  const LmOptions& options() const { return opts_; }
  void set_training(bool t) { training_ = t; }

  // ids [B, T] int64, right-padded (padding is never attended to by real positions under the causal
  // mask). Returns final-normed hidden states [B, T, H] in the compute dtype.
  torch::Tensor hidden(const torch::Tensor& ids) const;
  // Float32 (or f64 master) logits of the given hidden rows [..., H] → [..., V].
  torch::Tensor logits(const torch::Tensor& h) const;

  // Parameters in a fixed order with their HF names (LoRA: "<module>.lora_A/B.weight").
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
  std::vector<torch::Tensor> trainable() const;
  // HF tensors of the merged model (LoRA folded in), detached, in the master dtype.
  std::vector<std::pair<std::string, torch::Tensor>> merged_weights() const;

  // Decoder layer l over x [B, T, H] (used by the activation-checkpointing function); `mask` [T, T]
  // bool, true above the diagonal (built once per forward).
  torch::Tensor block_fn(size_t l, const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                         const torch::Tensor& mask) const;

 private:
  model::ModelConfig cfg_;
  LmOptions opts_;
  bool training_ = true;
  torch::Tensor embed_, final_norm_;
  LoraLinear lm_head_;  // w aliases embed_ when tied
  std::vector<Layer> layers_;
  torch::Tensor inv_freq_;  // [head_dim / 2] float32
};

// Sum over target tokens of log p(token | prefix) for each row of a padded batch.
// ids [B, T], target [B, T] (1 = token is a target; position 0 never is). Returns [B] in the master
// dtype.
torch::Tensor target_logprobs(const CausalLM& m, const torch::Tensor& ids, const torch::Tensor& target);

// Pads examples to one [B, T] batch (pad id 0, target 0).
std::pair<torch::Tensor, torch::Tensor> collate(const std::vector<const TokenExample*>& rows);

}  // namespace um::train::detail
