#pragma once
// The configuration of `usermirror run CONFIG.toml`: which datasets, how many scenes, which backends
// play teacher / student / predictor, and the parameters of every stage. Relative paths are resolved
// against the configuration file's folder. Unknown keys are errors (a typo never silently falls
// back to a default).
//
//   pipeline::RunConfig c = pipeline::load_run_config("configs/demo.toml");
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace um::pipeline {

struct RunDataset {
  std::string name;            // reference dataset name (ml-1m, MIND, Amazon-<Category>, ...)
  std::filesystem::path raw;   // folder with the official raw files
  int64_t eval_samples = 256;  // scenes in the eval set (5 options each by default)
  int64_t train_samples = 1024;
  int64_t eval_min_exposure = 5, eval_max_exposure = 5;
  int64_t train_min_exposure = 2, train_max_exposure = 12;
};

struct RunModels {
  // Backend specs (`local:DIR` or `openai:URL[,URL]?model=...`). Empty = a tiny random model that
  // the run creates under WORK/models/tiny (meaningless simulations; said loudly).
  std::string teacher, student, predictor;
  // Tokenizer folder (tokenizer.json + tokenizer_config.json) for the tiny model.
  std::filesystem::path tiny_tokenizer;
};

struct RunDecide {
  int64_t n = 10;  // rationales per scene and variant (docs/method.md §6)
  double temperature = 1.0;
  double top_p = 0.9;
  int64_t max_tokens = 1024;
};

struct RunDistil {
  std::string name = "UserMirrorer";
  int64_t select = 10000;
  std::string filter_column = "diff_model_uncertainty";
  std::string sampling_column = "entropy";
  bool ascending = false;
};

struct RunEvaluate {
  bool enabled = true;
  std::vector<std::string> modes = {"direct", "reasoning"};
  int64_t repeats = 3;
  int64_t max_tokens = 1024;
};

struct RunTrain {
  bool enabled = false;
  int64_t sft_steps = 0;  // 0 = one epoch
  int64_t dpo_steps = 0;
  int64_t lora_rank = 0;  // 0 = full fine-tuning
};

struct RunConfig {
  std::filesystem::path config_file;
  std::filesystem::path work;
  uint64_t seed = 0;
  unsigned threads = 0;
  std::filesystem::path prompts_dir;  // empty = default search order
  std::string system_prompt = "reasoning-v1";
  std::string direct_prompt = "direct-v1";
  std::vector<RunDataset> datasets;
  RunModels models;
  RunDecide decide;
  RunDistil distil;
  RunEvaluate evaluate;
  RunTrain train;
};

// Parses and validates; util::Error names the file, the line where cpptoml reports one, and the key.
RunConfig load_run_config(const std::filesystem::path& file);

}  // namespace um::pipeline
