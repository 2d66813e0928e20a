#pragma once
// Generation: n samples per prompt decoded together in one batch, over a Session (torch-free).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/sampling.h"

namespace um::model {

class Session;

struct GenerateOptions {
  int n = 1;
  int max_tokens = 256;
  SamplingParams sampling;
  uint64_t seed = 0;  // sample i draws from util::Rng::stream(seed, "generate", i): reproducible per sample
  // Tokens that end a sample (not included in its output). Empty = the model's EOS ids.
  std::vector<int32_t> stop_ids;
  bool ignore_eos = false;  // with empty stop_ids: never stop on EOS
  // Called after each generated token with that sample's tokens so far; returning a length L
  // (<= tokens.size()) stops the sample and keeps its first L tokens (stop strings: the tokenizer
  // decodes and finds the string). Returning -1 continues.
  std::function<int64_t(size_t sample, const std::vector<int32_t>& tokens)> stop_check;
};

struct Completion {
  std::vector<int32_t> tokens;
  std::string finish_reason;  // "stop" (stop id or stop_check) | "length"
};

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o);

}  // namespace um::model
