#pragma once
// Random-weight models written in Hugging Face format (config.json, model.safetensors,
// generation_config.json, plus the real tokenizer files). Tests and benchmarks use these. Torch-free.
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/config.h"

namespace um::model {

struct InitOptions {
  std::string arch = "llama";  // llama | qwen2 | qwen3 | mistral
  int64_t layers = 2;
  int64_t hidden = 64;
  int64_t heads = 4;
  int64_t kv_heads = 0;      // 0 = heads
  int64_t intermediate = 0;  // 0 = 4 * hidden
  int64_t head_dim = 0;      // 0 = hidden / heads
  int64_t vocab = 0;         // 0 = the tokenizer's vocabulary incl. added tokens
  bool tie_embeddings = false;
  std::string rope_scaling;             // "" or "llama3"
  std::filesystem::path tokenizer_dir;  // holds tokenizer.json (+ tokenizer_config.json)
  std::filesystem::path out_dir;
  uint64_t seed = 0;
  std::string dtype = "bf16";  // bf16 | f32
};

// The config `init_random_model` writes (exposed so tests can check it).
ModelConfig init_config(const InitOptions& o);
// Writes the model; deterministic given the options (same seed → identical files).
ModelConfig init_random_model(const InitOptions& o);

// Size of a tokenizer.json vocabulary: max(model.vocab ids, added_tokens ids) + 1.
int64_t tokenizer_vocab_size(const std::filesystem::path& tokenizer_json);

}  // namespace um::model
