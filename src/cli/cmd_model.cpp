// `usermirror model init`: write a random-weight model in Hugging Face format.
#ifdef UM_HAVE_MODEL
#include <fmt/core.h>

#include "cli/command_registry.h"
#include "model/model.h"

namespace um::cli {

Command model_command() {
  return {"model", "Model utilities (init: random-weight HF model for tests and benchmarks)",
          [](CLI::App& sub) -> std::function<int()> {
            sub.require_subcommand(1);
            auto o = std::make_shared<model::InitOptions>();
            auto tie = std::make_shared<bool>(false);
            CLI::App* init =
                sub.add_subcommand("init", "Write a random-weight model (config, safetensors, tokenizer)");
            init->add_option("--arch", o->arch, "llama | qwen2 | qwen3 | mistral")->required();
            init->add_option("--layers", o->layers, "Decoder layers")->required();
            init->add_option("--hidden", o->hidden, "Hidden size")->required();
            init->add_option("--heads", o->heads, "Attention heads")->required();
            init->add_option("--kv-heads", o->kv_heads, "Key/value heads (GQA)")->required();
            init->add_option("--intermediate", o->intermediate, "MLP size (default 4 x hidden)");
            init->add_option("--head-dim", o->head_dim, "Head dimension (default hidden / heads)");
            init->add_option("--vocab", o->vocab, "Vocabulary size (default: the tokenizer's)");
            init->add_flag("--tie-embeddings", *tie, "Share the embedding and output matrices");
            init->add_option("--rope-scaling", o->rope_scaling, "RoPE scaling: llama3");
            init->add_option("--tokenizer", o->tokenizer_dir, "Directory with tokenizer.json")->required();
            init->add_option("--out", o->out_dir, "Output model directory")->required();
            init->add_option("--seed", o->seed, "Random seed")->capture_default_str();
            init->add_option("--dtype", o->dtype, "Weight dtype: bf16 or f32")->capture_default_str();
            return [o, tie] {
              o->tie_embeddings = *tie;
              auto c = model::init_random_model(*o);
              fmt::print("wrote {} ({} layers, hidden {}, vocab {}) to {}\n", c.architecture, c.num_layers,
                         c.hidden_size, c.vocab_size, o->out_dir.string());
              return 0;
            };
          }};
}

}  // namespace um::cli

#endif  // UM_HAVE_MODEL
