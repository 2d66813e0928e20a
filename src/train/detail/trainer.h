#pragma once
// The optimisation loop shared by SFT and DPO: seeded data order, gradient accumulation, AdamW with
// cosine warm-up schedule, clipping, checkpoints with optimizer state, exact resume, export.
// Internal to src/train (includes torch).
#include <cstdint>
#include <string>
#include <vector>

#include "train/detail/causal_lm.h"
#include "train/train.h"

namespace um::train::detail {

// Running sums of one optimizer step (filled by the objective).
struct StepAccum {
  double loss = 0;
  int64_t tokens = 0, target_tokens = 0;
  double chosen_reward = 0, rejected_reward = 0, margin = 0, accuracy = 0;  // sums over pairs (DPO)
  int64_t pairs = 0;
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual int64_t size() const = 0;
  // Fingerprint of the data and loss settings (resume refuses a checkpoint of another run).
  virtual std::string fingerprint() const = 0;
  // Called once before training (DPO computes or loads its reference log-probs here).
  virtual void prepare(const TrainOptions& /*o*/) {}
  // Normaliser of the step made of examples `step_idx` (SFT: target tokens; DPO: pairs).
  virtual double denominator(const std::vector<int64_t>& step_idx) const = 0;
  // Forward + backward of one micro-batch; the gradient and loss are of sum(losses) / denom.
  virtual void micro_batch(CausalLM& m, const std::vector<int64_t>& idx, double denom, StepAccum& acc) = 0;
};

// Learning-rate multiplier at 0-based step s (transformers/torchtune get_cosine_schedule_with_warmup,
// half a cycle).
double cosine_with_warmup(int64_t s, int64_t warmup, int64_t total);

// Runs (or resumes) the training described by `o` on `obj`.
TrainResult run_training(const TrainOptions& o, Objective& obj);

// Hash of token ids and targets (run fingerprints, reference-cache keys).
uint64_t hash_examples(const std::vector<const TokenExample*>& data);
// Target tokens of an example (position 0 is never a target).
int64_t count_targets(const TokenExample& e);

// Model options of a run (dtype, LoRA, checkpointing, seed).
LmOptions lm_options(const TrainOptions& o);

}  // namespace um::train::detail
