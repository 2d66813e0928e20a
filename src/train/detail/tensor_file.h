#pragma once
// Tensor files of a checkpoint (trainable.pt, optimizer.pt) in torch::save's format, written so that
// a failing write (a full disk) is a util::Error naming the file (docs/reliability.md). Internal to
// src/train.
#include <torch/torch.h>

#include <filesystem>
#include <vector>

namespace um::train::detail {

// torch::save(tensors, file) through util::AtomicWriter: on a write error the partial file is
// removed and util::Error names the file. (torch::save to a path aborts the process instead: its zip
// writer notices the short write in a destructor and throws from there.)
void save_tensors(const std::vector<torch::Tensor>& tensors, const std::filesystem::path& file);

}  // namespace um::train::detail
