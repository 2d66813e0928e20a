// `usermirror train sft|dpo --model DIR --data FILE --out DIR [--lora-rank R] [--steps N] [--resume] ...`
// Defaults are the reference run's (docs/method.md §9): SFT lr 2e-4, 1 epoch; DPO lr 1e-5, 2 epochs,
// weight decay 0.05, β 0.1; both batch 1 × 4 accumulation, cosine schedule with 10 warm-up steps.
#ifdef UM_HAVE_TRAIN
#include <fmt/format.h>

#include "cli/command_registry.h"
#include "data/compat.h"
#include "train/reference_defaults.h"
#include "train/train.h"
#include "util/progress.h"

namespace um::cli {

namespace {

// The options every training stage shares, declared once.
void add_train_options(CLI::App* app, train::TrainOptions& o) {
  app->add_option("--model", o.model_dir, "Starting model: Hugging Face directory")->required();
  app->add_option("--data", o.data_path,
                  "Training data (JSONL: SFT `messages` or pref `messages_chosen`/...; '-' = stdin)")
      ->required();
  app->add_option("--out", o.out_dir, "Run directory (checkpoint/, model/, metrics.jsonl, loss.png)")
      ->required();
  app->add_option("--steps", o.steps, "Optimizer steps (0 = --epochs passes over the data)")
      ->capture_default_str();
  app->add_option("--epochs", o.epochs, "Passes over the data when --steps is 0")->capture_default_str();
  app->add_option("--batch-size", o.batch_size, "Examples per micro-batch")->capture_default_str();
  app->add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step")->capture_default_str();
  app->add_option("--max-seq-len", o.max_seq_len, "Longer examples are cut (counted)")->capture_default_str();
  app->add_option("--lr", o.lr, "Peak learning rate")->capture_default_str();
  app->add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str();
  app->add_option("--warmup-steps", o.warmup_steps, "Linear warm-up steps before the cosine decay")
      ->capture_default_str();
  app->add_option("--max-grad-norm", o.max_grad_norm, "Gradient clipping norm (0 = none)")
      ->capture_default_str();
  app->add_option("--seed", o.seed, "Seed of data order, LoRA init and dropout")->capture_default_str();
  app->add_option("--lora-rank", o.lora.rank, "LoRA rank (0 = full fine-tuning)")->capture_default_str();
  app->add_option("--lora-alpha", o.lora.alpha, "LoRA alpha (scale = alpha / rank)")->capture_default_str();
  app->add_option("--lora-dropout", o.lora.dropout, "Dropout on the LoRA input")->capture_default_str();
  app->add_option("--lora-targets", o.lora.targets,
                  "LoRA modules (q_proj,k_proj,v_proj,o_proj,gate_proj,...)")
      ->delimiter(',')
      ->capture_default_str();
  app->add_option("--dtype", o.compute_dtype, "Compute dtype: f32 | bf16 (weights and AdamW state stay f32)")
      ->capture_default_str();
  app->add_flag("--activation-checkpointing", o.activation_checkpointing,
                "Recompute each layer in backward instead of keeping its activations");
  app->add_flag("--resume", o.resume, "Continue from OUT/checkpoint (same losses as an uninterrupted run)");
  app->add_option("--checkpoint-every", o.checkpoint_every, "Also checkpoint every N steps (0 = at the end)")
      ->capture_default_str();
  app->add_option("--stop-after", o.stop_after,
                  "Stop with a checkpoint after N steps in total (resume later)")
      ->capture_default_str();
  app->add_option("--threads", o.threads, "Torch threads (0 = all cores)")->capture_default_str();
  app->add_option("--export-dtype", o.export_dtype, "Exported weights: f32 | bf16 (default: the model's)");
  app->add_flag_function(
      "--no-export", [&o](int64_t) { o.export_model = false; }, "Do not write OUT/model");
  app->add_flag_function(
      "--no-plot", [&o](int64_t) { o.plot = false; }, "Do not draw OUT/loss.png");
}

void add_compat_option(CLI::App* app, std::string& compat) {
  app->add_option("--compat", compat,
                  "usermirror | reference: the reference run's bf16 compute and activation checkpointing "
                  "(an explicit --dtype / --activation-checkpointing wins)")
      ->check(CLI::IsMember({"usermirror", "reference"}))
      ->capture_default_str();
}

// --compat reference: the reference run's defaults for the options not given (train/reference_defaults.h).
void apply_compat(const CLI::App& app, const std::string& compat, train::TrainOptions& o) {
  if (data::parse_compat(compat) != data::Compat::reference) return;
  train::apply_reference_defaults(o, app.count("--dtype") > 0, app.count("--activation-checkpointing") > 0);
}

// `s` was created before the run so its wall time covers it.
int report(util::Summary& s, const std::string& stage, const train::TrainOptions& o,
           const train::TrainResult& r) {
  s.count("examples", static_cast<uint64_t>(r.data.examples));
  if (r.data.truncated > 0) s.count("examples cut to --max-seq-len", static_cast<uint64_t>(r.data.truncated));
  s.count("trainable parameters", static_cast<uint64_t>(r.trainable_params));
  s.count("parameters", static_cast<uint64_t>(r.total_params));
  s.set("steps", fmt::format("{} of {}", r.steps.size(), r.total_steps));
  int64_t tokens = 0;
  double secs = 0;
  for (const auto& m : r.steps) {
    tokens += m.tokens;
    secs += m.seconds;
  }
  if (!r.steps.empty()) {
    s.set("final loss", fmt::format("{:.4f}", r.steps.back().loss));
    if (stage == "dpo") s.set("final reward margin", fmt::format("{:.4f}", r.steps.back().margin));
    s.set("training tokens/s", fmt::format("{:.0f}", secs > 0 ? static_cast<double>(tokens) / secs : 0.0));
  }
  s.set("peak memory", util::human_bytes(util::peak_rss_bytes()));
  s.set("metrics", (o.out_dir / "metrics.jsonl").string());
  s.set("checkpoint", (o.out_dir / "checkpoint").string());
  if (!r.model_out.empty()) s.set("model", r.model_out.string());
  if (!r.finished) s.set("stopped", "--stop-after reached; continue with --resume");
  if (!r.plot_note.empty()) s.set("loss plot", r.plot_note);
  s.print();
  return 0;
}

}  // namespace

Command train_command() {
  return {"train",
          "Fine-tune a model: sft (assistant-token cross-entropy) or dpo (sigmoid DPO), full or LoRA",
          [](CLI::App& app) -> std::function<int()> {
            app.require_subcommand(1);
            auto sft = std::make_shared<train::TrainOptions>(train::sft_defaults());
            auto dpo = std::make_shared<train::TrainOptions>(train::dpo_defaults());
            auto dpo_loss = std::make_shared<train::DpoOptions>();
            sft->progress = dpo->progress = true;
            auto sft_compat = std::make_shared<std::string>("usermirror");
            auto dpo_compat = std::make_shared<std::string>("usermirror");
            CLI::App* s = app.add_subcommand("sft", "Supervised fine-tuning on the assistant turns");
            add_train_options(s, *sft);
            add_compat_option(s, *sft_compat);
            s->add_option("--column", sft->column,
                          "Conversation column (default: messages, else messages_chosen)");
            CLI::App* d = app.add_subcommand("dpo", "Direct preference optimisation on a pref file");
            add_train_options(d, *dpo);
            add_compat_option(d, *dpo_compat);
            d->add_option("--beta", dpo_loss->beta, "DPO beta")->capture_default_str();
            d->add_option("--label-smoothing", dpo_loss->label_smoothing, "Conservative DPO label smoothing")
                ->capture_default_str();
            d->add_option("--ref", dpo_loss->reference_dir, "Reference model (default: --model)");
            return [s, d, sft, dpo, dpo_loss, sft_compat, dpo_compat] {
              const std::string stage = s->parsed() ? "sft" : "dpo";
              util::Summary summary("train " + stage);
              if (stage == "sft") {
                apply_compat(*s, *sft_compat, *sft);
                return report(summary, stage, *sft, train::run_sft(*sft));
              }
              apply_compat(*d, *dpo_compat, *dpo);
              return report(summary, stage, *dpo, train::run_dpo(*dpo, *dpo_loss));
            };
          }};
}

}  // namespace um::cli

#endif  // UM_HAVE_TRAIN
