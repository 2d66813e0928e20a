// Qwen2ForCausalLM: the Llama layer with a bias on the q, k and v projections (not on o_proj).
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec qwen2_spec() {
  return {"qwen2",
          "Qwen2ForCausalLM",
          "qwen2",
          [](ModelConfig& c, const std::string&) { c.qkv_bias = true; },
          [](ModelConfig& c) {
            c.rope_theta = 1000000.0;
            c.rms_norm_eps = 1e-6;
            c.qkv_bias = true;
          },
          {.use_sliding_window = true},
          [](const ModelConfig& c) {
            return TorchtuneSpec{
                .builder = "torchtune.models.qwen2.qwen2",
                .lora_builder = "torchtune.models.qwen2.lora_qwen2",
                .tokenizer = "torchtune.models.qwen2_5.qwen2_5_tokenizer",
                .model_type = "QWEN2",
                .tokenizer_files = {{"path", "vocab.json"}, {"merges_file", "merges.txt"}},
                .model_args = {{"head_dim", std::to_string(c.head_dim)},
                               {"tie_word_embeddings", c.tie_word_embeddings ? "True" : "False"}}};
          }};
}

}  // namespace um::model::arch
