#pragma once
// Fine-tuning of Hugging Face causal LMs on libtorch: SFT and DPO, full or LoRA, exported back as
// Hugging Face directories that src/model (and other tools) load.
//
//   train::TrainOptions o = train::sft_defaults();
//   o.model_dir = "models/student"; o.data_path = "datasets/ml-1m_pref.jsonl"; o.out_dir = "runs/sft";
//   o.lora.rank = 16;
//   train::TrainResult r = train::run_sft(o);        // r.model_out holds the merged HF model
//   auto d = train::dpo_defaults(); d.model_dir = r.model_out; ...
//   train::run_dpo(d, train::DpoOptions{.beta = 0.1});
//
// Contracts
// - The training forward computes the same function as model::Session's forward (same RMSNorm,
//   RoPE, GQA attention, SwiGLU), on f32 master weights; `compute_dtype = "bf16"` casts weights and
//   activations to bf16 inside the forward while parameters and AdamW state stay f32.
// - One optimizer step = batch_size × grad_accum examples; the loss of a step is the sum of token
//   losses over all its examples divided by its number of target tokens (SFT), or the mean over its
//   pairs (DPO). The learning rate at step s (0-based) is lr × cosine-with-warm-up(s) as in
//   torchtune/transformers (step 0 of a warm-up runs at lr 0).
// - Data order is a seeded permutation per epoch (util::Rng stream "train/order"); LoRA dropout
//   draws from a torch generator seeded per (seed, step, micro-batch), so `resume` continues exactly:
//   the losses equal those of an uninterrupted run.
// - Weight decay applies to every trainable parameter (torchtune's AdamW use). The optimizer updates
//   all trainable tensors as one flat buffer (the same update as torch::optim::AdamW); checkpoints of
//   the earlier per-tensor optimizer format are refused on resume.
// - Process-wide settings of a run: OpenBLAS's own thread pool is sized to `threads` for the run
//   (restored afterwards); under glibc, freed heap memory up to 256 MiB is kept for the next step
//   (mallopt trim/mmap thresholds, left in place after the run; skipped when MALLOC_*_ or
//   GLIBC_TUNABLES is set in the environment).
//
// Errors: util::Error for bad input (file, line, field), util::NotSupported for options the trainer
// deliberately does not handle. Not thread-safe: one training run per process at a time (libtorch's
// global thread pool and RNG are used).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace um::train {

struct LoraOptions {
  int64_t rank = 0;  // 0 = full fine-tuning
  double alpha = 16.0;
  double dropout = 0.0;
  // HF module names: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj.
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
};

struct TrainOptions {
  std::filesystem::path model_dir;  // HF directory (config.json, *.safetensors, tokenizer files)
  std::filesystem::path data_path;  // JSONL: SFT file (`messages`) or pref file (`messages_chosen`, ...)
  std::filesystem::path out_dir;    // checkpoint/, model/ (the export), metrics.jsonl, loss.png
  std::string column;               // SFT conversation column; "" = `messages`, else `messages_chosen`
  int64_t steps = 0;                // optimizer steps; 0 = `epochs` passes over the data
  int64_t epochs = 1;
  int64_t batch_size = 1;
  int64_t grad_accum = 4;
  int64_t max_seq_len = 8192;  // longer examples are truncated from the right (counted in the summary)
  double lr = 2e-4;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int64_t warmup_steps = 10;
  double max_grad_norm = 0.0;  // 0 = no clipping (the norm is still logged)
  uint64_t seed = 0;
  LoraOptions lora;
  std::string compute_dtype = "f32";  // f32 | bf16
  bool activation_checkpointing = false;
  bool resume = false;           // continue from out_dir/checkpoint
  int64_t checkpoint_every = 0;  // also checkpoint every N steps (0 = only at the end / stop)
  int64_t stop_after = 0;        // stop (with a checkpoint) after this many steps in total; 0 = run all
  int threads = 0;               // torch threads, 0 = all cores
  std::string export_dtype;      // "" = the base model's stored dtype; f32 | bf16
  bool export_model = true;
  bool plot = true;       // loss.png through /usr/bin/python3 + matplotlib (skipped with a note)
  bool progress = false;  // progress line on stderr
};

// §9 values: SFT lr 2e-4, 1 epoch, batch 1 × 4, cosine with 10 warm-up steps, no weight decay.
TrainOptions sft_defaults();
// §9 values: DPO lr 1e-5, 2 epochs, weight decay 0.05, batch 1 × 4, 10 warm-up steps.
TrainOptions dpo_defaults();

struct DpoOptions {
  double beta = 0.1;
  double label_smoothing = 0.0;
  std::filesystem::path reference_dir;  // "" = the starting model (model_dir)
};

// A tokenized example: target[i] = 1 when token i is predicted (loss at position i-1 → i).
struct TokenExample {
  std::vector<int32_t> ids;
  std::vector<uint8_t> target;
};
struct PrefExample {
  TokenExample chosen, rejected;
};

struct StepMetrics {
  int64_t step = 0;  // 1-based optimizer step
  double lr = 0, loss = 0, grad_norm = 0;
  int64_t tokens = 0;         // tokens through the model this step (incl. prompts, excl. padding)
  int64_t target_tokens = 0;  // tokens with a loss
  double seconds = 0;
  // DPO only (means over the step's pairs).
  double chosen_reward = 0, rejected_reward = 0, margin = 0, accuracy = 0;
};

struct DataSummary {
  int64_t examples = 0;
  int64_t truncated = 0;      // examples cut to max_seq_len
  int64_t target_tokens = 0;  // total over the data
};

struct TrainResult {
  std::vector<StepMetrics> steps;  // every step of the run, resumed ones included
  int64_t total_steps = 0;
  int64_t trainable_params = 0;
  int64_t total_params = 0;
  bool finished = false;            // false when stopped by stop_after
  std::filesystem::path model_out;  // exported HF dir (empty when not exported)
  DataSummary data;
  std::string plot_note;  // why loss.png was not written, if it was not
};

// Full runs from files: tokenises with the model's tokenizer and chat template (loss on the assistant
// turn only), trains, checkpoints, exports.
TrainResult run_sft(const TrainOptions& o);
TrainResult run_dpo(const TrainOptions& o, const DpoOptions& d);

// The same runs on already tokenized data (data_path is ignored; tests and benchmarks).
TrainResult run_sft_tokens(const TrainOptions& o, const std::vector<TokenExample>& data);
TrainResult run_dpo_tokens(const TrainOptions& o, const DpoOptions& d, const std::vector<PrefExample>& data);

// Data: reads the conversations of `column` (SFT) or the chosen/rejected pairs from the JSONL file and
// tokenises them with the chat template of `model_dir`. The assistant turn must be the last message;
// target tokens are those after the rendering of the preceding messages with add_generation_prompt.
std::vector<TokenExample> load_sft_data(const std::filesystem::path& data,
                                        const std::filesystem::path& model_dir, const std::string& column,
                                        int64_t max_seq_len, DataSummary* summary);
std::vector<PrefExample> load_pref_data(const std::filesystem::path& data,
                                        const std::filesystem::path& model_dir, int64_t max_seq_len,
                                        DataSummary* summary);

// Sum of target-token log-probabilities of each example under the model in `model_dir` (f32, through
// the training module; used by DPO's reference pass and by tests).
std::vector<double> sequence_logprobs(const std::filesystem::path& model_dir,
                                      const std::vector<TokenExample>& data);

// Configs for running the same job with torchtune or TRL on a GPU cluster.
struct ExportConfigOptions {
  std::string tool;  // torchtune | trl
  std::filesystem::path model_dir, data_path, out_dir;
  std::string stage = "both";  // sft | dpo | both
  TrainOptions sft = sft_defaults();
  TrainOptions dpo = dpo_defaults();
  DpoOptions dpo_loss;
};
// Writes the config files and returns their paths.
std::vector<std::filesystem::path> export_configs(const ExportConfigOptions& o);

}  // namespace um::train
