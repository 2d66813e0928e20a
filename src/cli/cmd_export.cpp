// `usermirror export torchtune|trl --model DIR --data FILE --out DIR [--stage sft|dpo|both] ...`:
// configs that run the same fine-tuning with torchtune or TRL (defaults: docs/method.md §9).
#ifdef UM_HAVE_TRAIN
#include <fmt/format.h>

#include "cli/command_registry.h"
#include "train/train.h"

namespace um::cli {

Command export_command() {
  return {
      "export", "Write torchtune or TRL configs equivalent to `usermirror train` for GPU clusters",
      [](CLI::App& app) -> std::function<int()> {
        auto o = std::make_shared<train::ExportConfigOptions>();
        app.add_option("tool", o->tool, "torchtune | trl")
            ->required()
            ->check(CLI::IsMember({"torchtune", "trl"}));
        app.add_option("--model", o->model_dir, "Base model: Hugging Face directory")->required();
        app.add_option("--data", o->data_path, "Pref file (messages_chosen / messages_rejected)")->required();
        app.add_option("--out", o->out_dir, "Directory for the configs")->required();
        app.add_option("--stage", o->stage, "sft | dpo | both")->capture_default_str();
        app.add_option("--lora-rank", o->sft.lora.rank, "LoRA rank for both stages (0 = full)")
            ->capture_default_str();
        app.add_option("--max-seq-len", o->sft.max_seq_len, "Maximum sequence length")->capture_default_str();
        app.add_option("--sft-lr", o->sft.lr, "SFT learning rate")->capture_default_str();
        app.add_option("--sft-epochs", o->sft.epochs, "SFT epochs")->capture_default_str();
        app.add_option("--dpo-lr", o->dpo.lr, "DPO learning rate")->capture_default_str();
        app.add_option("--dpo-epochs", o->dpo.epochs, "DPO epochs")->capture_default_str();
        app.add_option("--beta", o->dpo_loss.beta, "DPO beta")->capture_default_str();
        app.add_option("--seed", o->sft.seed, "Seed")->capture_default_str();
        return [o] {
          o->dpo.lora = o->sft.lora;
          o->dpo.max_seq_len = o->sft.max_seq_len;
          o->dpo.seed = o->sft.seed;
          for (const auto& p : train::export_configs(*o)) fmt::print("wrote {}\n", p.string());
          return 0;
        };
      }};
}

}  // namespace um::cli

#endif  // UM_HAVE_TRAIN
