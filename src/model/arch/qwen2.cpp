// Qwen2ForCausalLM: the Llama layer with a bias on the q, k and v projections (not on o_proj).
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec qwen2_spec() {
  return {"qwen2", "Qwen2ForCausalLM", "qwen2", [](ModelConfig& c, const std::string&) { c.qkv_bias = true; },
          [](ModelConfig& c) {
            c.rope_theta = 1000000.0;
            c.rms_norm_eps = 1e-6;
            c.qkv_bias = true;
          }};
}

}  // namespace um::model::arch
