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

#include "data/compat.h"

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

// [arena]: recommenders judged by the simulator (docs/arena.md); runs after evaluate.
struct RunArena {
  bool enabled = false;
  std::string dataset;  // default: the first [[datasets]] entry
  std::vector<std::string> recommenders = {"random", "pop", "itemknn", "ease", "bpr"};
  std::string simulator;  // default: the simulator evaluate used (the trained student, else the student)
  std::string mode = "direct";
  std::vector<std::string> protocols = {"interleave"};
  int64_t users = 100;
  int64_t page_size = 5;
  int64_t history = 0;  // 0 = the reference's random 2-10 window, N = the N most recent entries
  int64_t rounds = 3;
  std::string split = "global-time:0.9";
};

struct RunConfig {
  std::filesystem::path config_file;
  std::filesystem::path work;
  uint64_t seed = 0;
  unsigned threads = 0;
  std::filesystem::path prompts_dir;  // empty = default search order
  // [run] compat = "reference": every stage follows the reference where usermirror deliberately differs
  // (docs/reference-differences.md); keys the file sets explicitly still win. Its run-level defaults:
  // prompts = "authors" and eval_max_tokens = 6144 (the reference's run script).
  data::Compat compat = data::Compat::usermirror;
  // "ours" (reasoning-v1 / direct-v1) or "authors" (authors-default / authors-direct, imported with
  // `usermirror prompts import --from-repo`); system_prompt / direct_prompt name other prompts.
  std::string prompts = "ours";
  std::string system_prompt = "reasoning-v1";
  std::string direct_prompt = "direct-v1";
  // Token-length filter of the eval scenes (docs/method.md §3.6: the reference's run script drops
  // eval scenes whose decision prompt exceeds 6,144 tokens of the weak model's tokenizer). 0 = off.
  int64_t eval_max_tokens = 0;
  // Tokenizer folder for that filter; empty = the student's `local:DIR` model folder (or the tiny
  // model's when no student is configured).
  std::filesystem::path length_tokenizer;
  std::vector<RunDataset> datasets;
  RunModels models;
  RunDecide decide;
  RunDistil distil;
  RunEvaluate evaluate;
  RunTrain train;
  RunArena arena;
};

// The reference's run script length-filters the eval sets at 6,144 tokens (compat = "reference").
inline constexpr int64_t kReferenceEvalMaxTokens = 6144;

// Parses and validates; util::Error names the file, the line where cpptoml reports one, and the key.
RunConfig load_run_config(const std::filesystem::path& file);

}  // namespace um::pipeline
