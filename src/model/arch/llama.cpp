// LlamaForCausalLM: pre-norm decoder, SwiGLU MLP, RoPE (optionally "llama3" frequency scaling), GQA,
// optional attention_bias.
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec llama_spec() {
  return {"llama", "LlamaForCausalLM", "llama",
          [](ModelConfig& c, const std::string& source) {
            if (c.sliding_window > 0) {
              throw util::NotSupported("Llama has no sliding window",
                                       {.file = source, .field = "sliding_window"});
            }
          },
          [](ModelConfig& c) {
            c.rope_theta = 500000.0;
            c.rms_norm_eps = 1e-5;
          }};
}

}  // namespace um::model::arch
