#pragma once
// Tiny random models (model::init_random_model) and synthetic token data for the trainer tests.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"
#include "train/train.h"

namespace um::testing {

// f32 random model with the Qwen3 tokenizer files; `vocab` 0 = the tokenizer's full vocabulary.
std::filesystem::path tiny_train_model(const std::string& arch, const std::string& tag, int64_t vocab = 512,
                                       int64_t kv_heads = 2, uint64_t seed = 3);
// Token examples: a random prompt of 6..12 ids (no targets) followed by a 3..5 token answer (targets)
// whose first token is one of `letters` chosen with the given weights; ids < vocab.
std::vector<train::TokenExample> token_sft_data(int n, int64_t vocab, uint64_t seed);
std::vector<train::PrefExample> token_pref_data(int n, int64_t vocab, uint64_t seed);
// Options for fast tests: no export/plot, no warm-up, 2 threads.
train::TrainOptions fast_options(const std::filesystem::path& model, const std::string& tag);
// Engine logits (src/model, f32) of every position of `ids`.
model::Logits engine_logits(const std::filesystem::path& model_dir, const std::vector<int32_t>& ids);

}  // namespace um::testing
