// `usermirror export torchtune|trl --model DIR --data FILE --out DIR [--stage sft|dpo|both] ...`:
// configs that run the same fine-tuning with torchtune or TRL (defaults: docs/method.md §9).
// `usermirror export recbole --work DIR --dataset NAME --split SPEC --out DIR [--name NAME]`: the
// arena's train/test split as RecBole atomic files (recommend::export_recbole, docs/arena.md).
#if defined(UM_HAVE_TRAIN) || defined(UM_HAVE_RECOMMEND)
#include <fmt/format.h>

#include "cli/command_registry.h"
#ifdef UM_HAVE_TRAIN
#include "train/train.h"
#endif
#ifdef UM_HAVE_RECOMMEND
#include "data/dataset_io.h"
#include "recommend/recommend.h"
#endif
#include "util/error.h"

namespace um::cli {

namespace {

#ifdef UM_HAVE_RECOMMEND
struct RecboleExportOptions {
  std::filesystem::path work, out;
  std::string dataset, split = "global-time:0.9", name;
};

int run_export_recbole(const RecboleExportOptions& o) {
  data::Dataset ds = data::load_dataset(o.work, o.dataset);
  recommend::Split split = recommend::make_split(ds, recommend::parse_split(o.split));
  const std::string name = o.name.empty() ? o.dataset : o.name;
  for (const auto& p : recommend::export_recbole(ds, split, o.out, name))
    fmt::print("wrote {}\n", p.string());
  fmt::print(
      "split {}: {} train / {} test interactions, {} test users ({} test interactions of unseen items "
      "dropped)\n",
      split.spec.text(), split.train_interactions, split.test_interactions, split.test_users.size(),
      split.dropped_unseen_test);
  fmt::print("RecBole: dataset: {}, data_path: {}, benchmark_filename: [train, valid, test]\n", name,
             o.out.parent_path().string());
  return 0;
}
#endif

// The options each tool needs (the positional tool decides which apply).
void require(bool given, const std::string& option, const std::string& tool) {
  if (!given) throw util::Error(option + " is required for `export " + tool + "`", {.field = option});
}

}  // namespace

Command export_command() {
  return {
      "export",
      "Write torchtune or TRL configs equivalent to `usermirror train` for GPU clusters, or the arena's "
      "split as RecBole atomic files",
      [](CLI::App& app) -> std::function<int()> {
        auto tool = std::make_shared<std::string>();
        auto out = std::make_shared<std::filesystem::path>();
        std::vector<std::string> tools;
#ifdef UM_HAVE_TRAIN
        tools = {"torchtune", "trl"};
#endif
#ifdef UM_HAVE_RECOMMEND
        tools.push_back("recbole");
#endif
        app.add_option("tool", *tool, "torchtune | trl | recbole")->required()->check(CLI::IsMember(tools));
        app.add_option("--out", *out,
                       "Directory for the configs (torchtune, trl) or the atomic files (recbole)");
#ifdef UM_HAVE_TRAIN
        auto o = std::make_shared<train::ExportConfigOptions>();
        app.add_option("--model", o->model_dir, "torchtune/trl: base model, Hugging Face directory");
        app.add_option("--data", o->data_path,
                       "torchtune/trl: pref file (messages_chosen / messages_rejected)");
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
#endif
#ifdef UM_HAVE_RECOMMEND
        auto r = std::make_shared<RecboleExportOptions>();
        app.add_option("--work", r->work, "recbole: work directory with raws/<DS>_*.jsonl");
        app.add_option("--dataset", r->dataset, "recbole: dataset name");
        app.add_option("--split", r->split, "recbole: global-time[:Q] | leave-last[:N]")
            ->capture_default_str();
        app.add_option("--name", r->name, "recbole: RecBole dataset name (default: --dataset)");
#endif
        return [=]() -> int {
          require(!out->empty(), "--out", *tool);
#ifdef UM_HAVE_RECOMMEND
          if (*tool == "recbole") {
            require(!r->work.empty(), "--work", *tool);
            require(!r->dataset.empty(), "--dataset", *tool);
            r->out = *out;
            return run_export_recbole(*r);
          }
#endif
#ifdef UM_HAVE_TRAIN
          require(!o->model_dir.empty(), "--model", *tool);
          require(!o->data_path.empty(), "--data", *tool);
          o->tool = *tool;
          o->out_dir = *out;
          o->dpo.lora = o->sft.lora;
          o->dpo.max_seq_len = o->sft.max_seq_len;
          o->dpo.seed = o->sft.seed;
          for (const auto& p : train::export_configs(*o)) fmt::print("wrote {}\n", p.string());
#endif
          return 0;
        };
      }};
}

}  // namespace um::cli

#endif  // UM_HAVE_TRAIN || UM_HAVE_RECOMMEND
