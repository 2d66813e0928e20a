#pragma once
// What a run writes: checkpoints (trainable tensors + AdamW state + state.json), the exported Hugging
// Face directory, metrics.jsonl and loss.png. Internal to src/train.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "train/detail/adamw.h"
#include "train/detail/causal_lm.h"
#include "train/detail/train_metrics.h"
#include "train/train.h"

namespace um::train::detail {

struct CheckpointState {
  int64_t step = 0;                    // optimizer steps done
  nlohmann::ordered_json fingerprint;  // run settings that must match on resume
};

// Writes out_dir/checkpoint atomically (written beside, then renamed over the previous one).
void save_checkpoint(const std::filesystem::path& out_dir, const CausalLM& m, const FlatAdamW& opt,
                     const CheckpointState& st);
// Loads out_dir/checkpoint into the model's trainable tensors and the optimizer. Returns nullopt when
// there is no checkpoint. Throws util::Error when it belongs to another configuration (naming the
// first differing setting) or is damaged.
std::optional<CheckpointState> load_checkpoint(const std::filesystem::path& out_dir, CausalLM& m,
                                               FlatAdamW& opt,
                                               const nlohmann::ordered_json& expected_fingerprint);

// Writes the merged model as a Hugging Face directory: config.json, generation_config.json,
// model.safetensors (dtype "f32" | "bf16"; "" = the base model's torch_dtype) and the tokenizer
// files of `source_dir`.
void export_hf(const CausalLM& m, const std::filesystem::path& source_dir, const std::filesystem::path& dir,
               const std::string& dtype);

}  // namespace um::train::detail
