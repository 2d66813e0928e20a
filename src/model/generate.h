#pragma once
// Generation: n samples per prompt decoded together in one batch, over a Session (torch-free).
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/sampling.h"

namespace um::model {

class Session;

// The log-probability of a generated token and the most likely ids at its position: the
// full-vocabulary log-softmax of the model's logits (before temperature and truncation, as vLLM
// reports them); masked ids (GenerateOptions::allowed) are never listed among the alternatives.
struct TokenLogprobs {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // best first, ties by lower id
};

struct Completion {
  std::vector<int32_t> tokens;
  std::string finish_reason;            // "stop" (stop id or stop_check) | "length"
  std::vector<TokenLogprobs> logprobs;  // one per token when GenerateOptions::top_logprobs >= 0
};

struct GenerateOptions {
  int n = 1;
  int max_tokens = 256;
  SamplingParams sampling;
  uint64_t seed = 0;  // sample i draws from util::Rng::stream(seed, "generate", i): reproducible per sample
  // Tokens that end a sample (not included in its output). Empty = the model's EOS ids.
  std::vector<int32_t> stop_ids;
  bool ignore_eos = false;  // with empty stop_ids: never stop on EOS
  // Ids that may be generated (sampling.h); empty = all. The memory must outlive generate().
  TokenMask allowed;
  // >= 0: every Completion gets per-token logprobs with this many alternatives.
  int top_logprobs = -1;
  // Called after each generated token with that sample's tokens so far; returning a length L
  // (<= tokens.size()) stops the sample and keeps its first L tokens (stop strings: the tokenizer
  // decodes and finds the string). Returning -1 continues.
  std::function<int64_t(size_t sample, const std::vector<int32_t>& tokens)> stop_check;
  // Called after each token of sample i has been accepted (stop ids and stop_check applied) and once
  // more when the sample finishes (finish_reason set): streaming. Runs on the generating thread.
  std::function<void(size_t sample, const Completion& so_far)> on_token;
  // Checked before every decode step: when it reads true, generate() releases its sequences and
  // throws util::Error("generation cancelled") (the client went away or the server is shutting down).
  const std::atomic<bool>* cancel = nullptr;
  // Session::prefill_cached's shared-prefix boundary of the prompt (0 = none).
  size_t prompt_split = 0;
};

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o);

// Logprob of `id` and the k most likely allowed ids of one logits row (TokenLogprobs), in O(V).
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int k, TokenMask allowed = {});

}  // namespace um::model
