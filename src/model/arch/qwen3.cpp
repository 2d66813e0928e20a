// Qwen3ForCausalLM: the Llama layer plus RMSNorm over head_dim on every q and k head (before RoPE);
// head_dim is explicit in the config (128 in the released models, not hidden/heads).
#include "model/arch/arch.h"
#include "util/error.h"

namespace um::model::arch {

ArchSpec qwen3_spec() {
  return {"qwen3", "Qwen3ForCausalLM", "qwen3", [](ModelConfig& c, const std::string&) { c.qk_norm = true; },
          [](ModelConfig& c) {
            c.rope_theta = 1000000.0;
            c.rms_norm_eps = 1e-6;
            c.qk_norm = true;
          }};
}

}  // namespace um::model::arch
