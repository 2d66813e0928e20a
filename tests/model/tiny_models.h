#pragma once
// Helpers for model tests: tiny random models written by model::init_random_model, and the numpy
// oracle (tests/oracles/numpy_forward.py, run with Debian's /usr/bin/python3).
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"

namespace um::testing {

// Writes a tiny model with `o` into a fresh temp dir (out_dir and tokenizer_dir are filled in).
std::filesystem::path make_tiny_model(model::InitOptions o, const std::filesystem::path& tokenizer_dir,
                                      const std::string& tag);
// Default tiny options: 2 layers, hidden 64, 4 heads, intermediate 96, vocab 512, f32 weights.
model::InitOptions tiny_options(const std::string& arch);

// Logits from the numpy oracle (all positions or last), as rows × vocab.
model::Logits numpy_logits(const std::filesystem::path& model_dir, const std::vector<int32_t>& ids,
                           bool all_positions);

// max over elements of |a - b| / (|b| + floor); fails the test on shape mismatch.
double max_rel_diff(const model::Logits& a, const model::Logits& b, double floor = 1.0);

}  // namespace um::testing
