// Qwen3ForCausalLM: the Llama layer plus RMSNorm over head_dim on every q and k head (before RoPE);
// head_dim is explicit in the config (128 in the released models, not hidden/heads).
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec qwen3_spec() {
  return {"qwen3",
          "Qwen3ForCausalLM",
          "qwen3",
          [](ModelConfig& c, const std::string&) { c.qk_norm = true; },
          [](ModelConfig& c) {
            c.rope_theta = 1000000.0;
            c.rms_norm_eps = 1e-6;
            c.qk_norm = true;
          },
          {.attention_bias = true, .use_sliding_window = true},
          [](const ModelConfig& c) {
            const std::string bias = c.qkv_bias ? "True" : "False";
            return TorchtuneSpec{
                .builder = "torchtune.models.qwen3.qwen3",
                .lora_builder = "torchtune.models.qwen3.lora_qwen3",
                .tokenizer = "torchtune.models.qwen3.qwen3_tokenizer",
                .model_type = "QWEN3",
                .tokenizer_files = {{"path", "vocab.json"}, {"merges_file", "merges.txt"}},
                .model_args = {{"head_dim", std::to_string(c.head_dim)},
                               {"tie_word_embeddings", c.tie_word_embeddings ? "True" : "False"},
                               {"q_proj_bias", bias},
                               {"k_proj_bias", bias},
                               {"v_proj_bias", bias},
                               {"q_norm", "True"},
                               {"k_norm", "True"}}};
          }};
}

}  // namespace um::model::arch
