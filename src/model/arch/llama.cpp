// LlamaForCausalLM: pre-norm decoder, SwiGLU MLP, RoPE (optionally "llama3" frequency scaling), GQA,
// optional attention_bias.
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec llama_spec() {
  return {"llama",
          "LlamaForCausalLM",
          "llama",
          [](ModelConfig& c, const std::string& source) {
            if (c.sliding_window > 0) {
              throw util::NotSupported("Llama has no sliding window",
                                       {.file = source, .field = "sliding_window"});
            }
          },
          [](ModelConfig& c) {
            c.rope_theta = 500000.0;
            c.rms_norm_eps = 1e-5;
          },
          {.attention_bias = true},
          [](const ModelConfig& c) {
            // Llama 3.1+ ("llama3" RoPE scaling) has its own builders; 3.2's small tied models their
            // own checkpoint type.
            const bool scaled = c.rope_scaling.type == "llama3";
            return TorchtuneSpec{
                .builder = scaled ? "torchtune.models.llama3_1.llama3_1" : "torchtune.models.llama3.llama3",
                .lora_builder = scaled ? "torchtune.models.llama3_1.lora_llama3_1"
                                       : "torchtune.models.llama3.lora_llama3",
                .tokenizer = "torchtune.models.llama3.llama3_tokenizer",
                .model_type = c.num_layers <= 28 && c.tie_word_embeddings ? "LLAMA3_2" : "LLAMA3",
                .tokenizer_files = {{"path", "original/tokenizer.model"}},
                .model_args = {}};
          }};
}

}  // namespace um::model::arch
