#ifdef UM_HAVE_TRAIN
#include "cli/train_hook.h"

#include <cstdio>

#include "train/reference_defaults.h"
#include "train/train.h"
#include "util/error.h"

namespace um::cli {
namespace fs = std::filesystem;

fs::path trained_model_dir(const pipeline::RunConfig& c) { return c.work / "train" / "dpo" / "model"; }

std::string train_hook(const pipeline::RunConfig& c, const fs::path& sft_file, const fs::path& pref_file,
                       const std::string& student_spec) {
  const std::string prefix = "local:";
  if (student_spec.rfind(prefix, 0) != 0)
    throw util::Error(
        "training needs the student as a local model folder (local:DIR), got '" + student_spec + "'",
        {.file = c.config_file.string(), .field = "models.student"});
  fs::path base = student_spec.substr(prefix.size());
  if (auto q = base.string().find('?'); q != std::string::npos) base = base.string().substr(0, q);

  train::TrainOptions sft = train::sft_defaults();
  sft.model_dir = base;
  sft.data_path = sft_file;
  sft.out_dir = c.work / "train" / "sft";
  sft.steps = c.train.sft_steps;
  sft.lora.rank = c.train.lora_rank;
  sft.seed = c.seed;
  sft.threads = static_cast<int>(c.threads);
  sft.progress = true;
  if (c.compat == data::Compat::reference) train::apply_reference_defaults(sft, false, false);
  std::printf("[run] train: SFT on %s\n", sft_file.string().c_str());
  train::TrainResult s = train::run_sft(sft);

  train::TrainOptions dpo = train::dpo_defaults();
  dpo.model_dir = s.model_out;
  dpo.data_path = pref_file;
  dpo.out_dir = c.work / "train" / "dpo";
  dpo.steps = c.train.dpo_steps;
  dpo.lora.rank = c.train.lora_rank;
  dpo.seed = c.seed;
  dpo.threads = static_cast<int>(c.threads);
  dpo.progress = true;
  if (c.compat == data::Compat::reference) train::apply_reference_defaults(dpo, false, false);
  std::printf("[run] train: DPO on %s\n", pref_file.string().c_str());
  train::TrainResult d = train::run_dpo(dpo, train::DpoOptions{});
  if (d.model_out != trained_model_dir(c))
    throw util::Error("DPO exported to an unexpected folder: " + d.model_out.string());
  return prefix + d.model_out.string();
}

}  // namespace um::cli
#endif  // UM_HAVE_TRAIN
