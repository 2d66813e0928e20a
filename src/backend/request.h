#pragma once
// Request and result types shared by every backend (embedded engine, OpenAI-compatible HTTP) and by
// the server. Plain copyable values; the only behaviour is the optional streaming callback of a
// GenerateRequest and the cancellation flag of both request kinds.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "text/chat_message.h"

namespace um::backend {

// The chat message of text/chat_message.h, under the name backend code uses.
using Message = text::ChatMessage;

struct SamplingParams {
  int n = 1;                 // samples per request
  double temperature = 1.0;  // 0 = greedy
  double top_p = 1.0;        // 1 = off
  int top_k = 0;             // 0 = off
  double min_p = 0.0;        // 0 = off
  int max_tokens = 1024;
  std::vector<std::string> stop;  // generation ends before the first stop string (not included)
  std::optional<uint64_t> seed;
};

// One alternative at a generated position.
struct TopLogprob {
  std::string token;
  double logprob = 0.0;
};
struct TokenLogprob {
  std::string token;
  double logprob = 0.0;
  std::vector<TopLogprob> top;  // most likely tokens at this position, best first
};

// Prefix-sharing hint: the prompt up to the end of the first `chars` characters of message
// `message`'s content is shared with other requests sent together (every page the arena shows one
// user at one time shares the system prompt, profile and history). The embedded engine then computes
// the prompt in two parts split there, so a cached shared part is reused exactly, and the result does
// not depend on what was asked before (the split depends on this request alone). Backends without a
// prefix cache, and vLLM's automatic prefix caching, need no hint and ignore it.
struct SharedPrefix {
  size_t message = 0;
  size_t chars = 0;
};

// A piece of one sample's output while it is generated (streaming, GenerateRequest::on_delta).
struct SampleDelta {
  int sample = 0;                      // index among the request's n samples
  std::string text;                    // new text (text that may still become a stop string is held back)
  std::vector<TokenLogprob> logprobs;  // the tokens this delta completes (when top_logprobs >= 0)
  std::string finish_reason;           // set on the sample's last delta ("stop" | "length"), "" before
};

// Generation. Exactly one of `messages` / `prompt` / `prompt_tokens` describes the input.
struct GenerateRequest {
  std::string key;                // caller's id (e.g. "ml-1m-12/teacher"), quoted in errors
  std::vector<Message> messages;  // chat form, rendered with the model's chat template
  // The last message is an assistant turn left open and continued (e.g. "Thought:\nStimulus:"),
  // instead of starting a new assistant turn (HF continue_final_message).
  bool continue_final_message = false;
  std::optional<std::string> prompt;   // already rendered prompt (completions form)
  std::vector<int32_t> prompt_tokens;  // token ids (completions form)
  SamplingParams sampling;
  int top_logprobs = -1;                      // -1 = no logprobs; k >= 0 = per-token logprob + top-k
  std::vector<int32_t> allowed_token_ids;     // restrict sampling to these ids (empty = all)
  std::optional<SharedPrefix> shared_prefix;  // messages form only
  // Streaming (optional): a backend that can stream calls this from its own thread as each sample's
  // text becomes final, token by token, and once more per sample with finish_reason set; the
  // concatenated deltas of a sample equal its Sample::text. Backends that cannot stream never call
  // it (the caller then streams the finished samples from the result).
  std::function<void(const SampleDelta&)> on_delta;
  // Cancellation (optional): once it reads true, a backend that supports it stops the request within
  // one decode step and reports util::Error("... cancelled"); others finish it normally.
  std::shared_ptr<const std::atomic<bool>> cancel;
};

struct Sample {
  std::string text;
  std::string finish_reason;           // "stop" | "length"
  std::vector<TokenLogprob> logprobs;  // filled when top_logprobs >= 0
};

struct GenerateResult {
  std::vector<Sample> samples;  // sampling.n of them
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// Distribution of the next token over option letters, read after an open assistant prefix such as
// "<rationale>\nBehavior: [" (docs/method.md §5.3, §7). Input: `messages` whose last message is the open
// assistant prefix, or an already rendered `prompt`.
struct OptionRequest {
  std::string key;
  std::vector<Message> messages;
  std::optional<std::string> prompt;
  std::vector<std::string> letters;           // "A", "B", ...
  std::vector<int32_t> letter_token_ids;      // first token id of each bare letter, if known
  std::optional<SharedPrefix> shared_prefix;  // messages form only
  // Cancellation (optional), the contract of GenerateRequest::cancel: once it reads true, a backend
  // that supports it stops the request at its next unit of work (the embedded engine: the next
  // prefill block or block step) and reports util::Error("... cancelled"); others finish it
  // normally. Cancelling one request of a page group (SharedPrefix) never changes the results of the
  // others: the embedded engine keeps computing work they share until they are all cancelled.
  std::shared_ptr<const std::atomic<bool>> cancel;
};

struct OptionResult {
  // Letter-restricted softmax, aligned with OptionRequest::letters; sums to 1.
  std::vector<double> probs;
  // Log-probabilities as the backend reported them (NaN where a letter was not reported).
  std::vector<double> raw_logprobs;
  int missing_letters = 0;  // letters absent from the backend's answer (filled with the 1e-10 floor)
};

}  // namespace um::backend
