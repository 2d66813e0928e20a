#pragma once
// `--compat reference` for training (docs/reference-differences.md): the reference run's settings
// that usermirror's defaults do not already follow (docs/method.md §9: torchtune trains in bf16 with
// activation checkpointing on). Every other default (learning rates, epochs, batch 1 × 4, weight
// decay, cosine schedule, β) is already the reference's. Options the user gave keep their values.
#include "train/train.h"

namespace um::train {

inline void apply_reference_defaults(TrainOptions& o, bool dtype_given, bool checkpointing_given) {
  if (!dtype_given) o.compute_dtype = "bf16";
  if (!checkpointing_given) o.activation_checkpointing = true;
}

}  // namespace um::train
