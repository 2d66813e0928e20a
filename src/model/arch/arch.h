#pragma once
// Architecture variants behind a name→factory table: adding a family = one arch/<family>.cpp + one row
// in arch/arch_registry.cpp. A variant states which optional tensors its layers carry and checks its
// config; the forward pass reads only these flags.
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"

namespace um::model::arch {

// Which optional config.json keys the family's Hugging Face class writes (config_to_json in
// hf_config.cpp, which owns the key names).
struct HfOptionalKeys {
  bool attention_bias = false;      // "attention_bias": ModelConfig::qkv_bias
  bool use_sliding_window = false;  // "use_sliding_window": false
  bool sliding_window = false;      // "sliding_window": ModelConfig::sliding_window, or null when 0
};

// The family in torchtune's terms, for the YAML configs of train/export_configs.cpp.
struct TorchtuneSpec {
  std::string builder, lora_builder;  // model components, e.g. "torchtune.models.qwen3.qwen3"
  std::string tokenizer;              // tokenizer component
  std::string model_type;             // checkpointer model_type, e.g. "QWEN3"
  // Tokenizer arguments that name a file of the model folder: {argument, path inside the folder}.
  std::vector<std::pair<std::string, std::string>> tokenizer_files;
  // Family-specific model-builder arguments, values as YAML writes them: {argument, value}.
  std::vector<std::pair<std::string, std::string>> model_args;
};

struct ArchSpec {
  std::string family;      // short name used by `model init --arch`
  std::string hf_class;    // config.json "architectures"[0]
  std::string model_type;  // config.json "model_type"
  // Sets the family's fixed features on a parsed config (e.g. Qwen2's qkv bias) and throws
  // util::NotSupported naming the field for what the forward pass does not implement.
  void (*apply)(ModelConfig& c, const std::string& source);
  // Sets family defaults for a freshly initialised random model.
  void (*init_defaults)(ModelConfig& c);
  HfOptionalKeys hf_keys;
  TorchtuneSpec (*torchtune)(const ModelConfig& c);
};

ArchSpec llama_spec();
ArchSpec qwen2_spec();
ArchSpec qwen3_spec();
ArchSpec mistral_spec();

const std::vector<ArchSpec>& all_archs();
// Lookup by HF class name or by family name; throws util::NotSupported listing the known ones.
const ArchSpec& find_by_class(const std::string& hf_class, const std::string& source);
const ArchSpec& find_by_family(const std::string& family);

}  // namespace um::model::arch
