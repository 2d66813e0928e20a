// MistralForCausalLM: the Llama layer; v0.1 declares sliding_window 4096 (sequences longer than the
// window are refused at run time rather than computed with the wrong mask), later versions null.
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec mistral_spec() {
  return {"mistral",
          "MistralForCausalLM",
          "mistral",
          [](ModelConfig& c, const std::string& source) {
            if (c.qkv_bias) {
              throw util::NotSupported("Mistral has no attention bias",
                                       {.file = source, .field = "attention_bias"});
            }
          },
          [](ModelConfig& c) {
            c.rope_theta = 1000000.0;
            c.rms_norm_eps = 1e-5;
          },
          {.sliding_window = true},
          [](const ModelConfig&) {
            return TorchtuneSpec{.builder = "torchtune.models.mistral.mistral",
                                 .lora_builder = "torchtune.models.mistral.lora_mistral",
                                 .tokenizer = "torchtune.models.mistral.mistral_tokenizer",
                                 .model_type = "MISTRAL",
                                 .tokenizer_files = {{"path", "tokenizer.model"}},
                                 .model_args = {}};
          }};
}

}  // namespace um::model::arch
