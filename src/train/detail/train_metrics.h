#pragma once
// metrics.jsonl (one object per optimizer step) and the loss-curve PNG. Torch-free.
#include <filesystem>
#include <string>
#include <vector>

#include "train/train.h"

namespace um::train::detail {

// Writes every step atomically (DPO adds rewards, margin and accuracy).
void write_metrics(const std::filesystem::path& path, const std::vector<StepMetrics>& steps, bool dpo);
// Steps 1..up_to_step of an existing metrics file (resume).
std::vector<StepMetrics> read_metrics(const std::filesystem::path& path, int64_t up_to_step);
// loss.png via /usr/bin/python3 + matplotlib. Returns "" on success, else why it was not written.
std::string plot_loss(const std::filesystem::path& metrics, const std::filesystem::path& png, bool dpo);

}  // namespace um::train::detail
