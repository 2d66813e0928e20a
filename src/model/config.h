#pragma once
// Model configuration as read from a Hugging Face directory (config.json + generation_config.json).
// The HF key names live in hf_config.cpp only; architecture variants in arch/<family>.cpp.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace um::model {

struct RopeScaling {
  std::string type;  // "" (none) or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string architecture;  // HF class name, e.g. "Qwen2ForCausalLM"
  std::string family;        // arch table key: llama | qwen2 | qwen3 | mistral
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // defaults to hidden_size / num_heads
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 4096;
  int64_t sliding_window = 0;  // 0 = none (Mistral v0.1 sets 4096: longer sequences are refused)
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2; Llama/Qwen3 "attention_bias"
  bool qk_norm = false;   // Qwen3: RMSNorm over head_dim on q and k before RoPE
  RopeScaling rope_scaling;
  std::string torch_dtype = "bfloat16";  // stored dtype as declared by the config
  std::vector<int64_t> eos_token_ids;    // generation_config.json, else config.json
  int64_t bos_token_id = -1;
};

// Reads dir/config.json (+ generation_config.json when present) and validates it. Throws
// util::NotSupported naming the field for unsupported architectures or options.
ModelConfig load_config(const std::filesystem::path& dir);
ModelConfig parse_config(const std::string& config_json, const std::string& source_name);
// Serialises the config in HF form (config.json) and the generation config.
std::string config_to_json(const ModelConfig& c);
std::string generation_config_to_json(const ModelConfig& c);

}  // namespace um::model

namespace um::model {

// Hugging Face tensor names (the one table of them, in hf_config.cpp).
enum class TensorKind {
  Embed,
  FinalNorm,
  LmHead,  // global
  InputNorm,
  Q,
  K,
  V,
  O,
  QBias,
  KBias,
  VBias,
  QNorm,
  KNorm,
  PostNorm,
  Gate,
  Up,
  Down  // per layer
};
std::string hf_tensor_name(TensorKind kind, int64_t layer = -1);

}  // namespace um::model
