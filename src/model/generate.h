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

class Model;
class Session;
struct Append;
struct Logits;
using SeqId = int64_t;

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
  // Checked before every decode step and every prefill block: when it reads true, generate() releases its
  // sequences and throws util::Error("generation cancelled") (the client went away or the server is shutting
  // down).
  const std::atomic<bool>* cancel = nullptr;
  // Session::prefill_cached's shared-prefix boundary of the prompt (0 = none).
  size_t prompt_split = 0;
};

std::vector<Completion> generate(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o);

// One prompt's generation advanced step by step, so that a scheduler can decode the samples of many
// generations in one batched Session::append_batch (continuous batching, backend/embedded). generate()
// is this class driven alone. A sample's tokens depend only on the prompt, the options and its own
// logits rows; since a decode row does not depend on the other rows of its batch (docs/benchmarks.md
// "Continuous batching" says where this holds), a generation batched with others gives the same
// result as alone.
//
//   Generation g(s, prompt, o);            // prefill (prefix cache) and the first token of each sample
//   while (!g.done()) {
//     std::vector<Append> step;
//     g.add_to_step(step);                 // one row per running sample, appended to `step`
//     Logits l = s.append_batch(step);
//     g.take_step(l, 0);                   // this generation's rows start at row 0 here
//   }
//   std::vector<Completion> out = g.take_result();
//
// The options (and the memory of o.allowed) must outlive the Generation; callbacks run on the thread
// that calls the constructor and take_step. The destructor releases every sequence still held.
class Generation {
 public:
  Generation(Session& s, std::span<const int32_t> prompt, const GenerateOptions& o);
  // The same from a prompt already prefilled (Session::prefill_cached_together): takes over
  // `prefilled` (released on every path) and draws the first tokens from `first`, the logits row
  // of the prompt's last position.
  Generation(Session& s, SeqId prefilled, std::span<const float> first, const GenerateOptions& o);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  bool done() const { return running_ == 0; }
  size_t running() const { return running_; }  // samples that need another decode step
  bool cancelled() const { return o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed); }
  // Appends the next token of every running sample (in sample order) to `step`; returns how many.
  size_t add_to_step(std::vector<Append>& step) const;
  // Consumes this generation's rows of a step's logits, [first_row, first_row + the count
  // add_to_step returned), drawing them on up to `threads` threads (0 = cores). On an exception (a
  // callback threw) the generation is unusable: destroy it.
  void take_step(const Logits& l, size_t first_row, unsigned threads = 1);
  // take_step in three parts, for a scheduler that draws the rows of many generations in one parallel
  // loop: begin_take returns the row count r, draw(j) for j in [0, r) may run concurrently (each
  // touches only its own sample's random stream), end_take applies stop ids, stop_check and on_token
  // on the calling thread. `l` must stay alive until end_take.
  size_t begin_take(const Logits& l, size_t first_row);
  void draw(size_t j);
  void end_take();
  std::vector<Completion> take_result() { return std::move(out_); }

 private:
  struct Drawn {
    size_t sample = 0;
    std::span<const float> row;
    int32_t token = 0;
    TokenLogprobs logprobs;
  };
  // The checks and the max_tokens = 0 answer; false when there is nothing to generate.
  bool begin();
  // Sample n-1 owns `base`, the others get forks of it; the first token of each from `first`.
  void start(SeqId base, std::span<const float> first);
  Drawn draw_row(size_t i, std::span<const float> row);
  bool accept(Drawn& d);
  void finish(size_t i);

  Session& s_;
  const GenerateOptions& o_;
  std::vector<int32_t> stops_;
  std::vector<Completion> out_;
  std::vector<util::Rng> rngs_;
  std::vector<SeqId> seqs_;
  std::vector<int32_t> next_;
  std::vector<bool> active_;
  size_t running_ = 0;
  std::vector<Drawn> drawn_;  // the rows of the step being taken
};

// The largest number of one-token rows a decode step (Session::append_batch) may have such that every
// row is bit-identical to the same sequence's step taken alone: kSmallBatchMaxRows (64) for bf16
// compute on the fused decode step (AVX-512 BF16, stored bf16 weights: detail/decode_step.h), 1
// otherwise: libtorch's GEMMs (f32 compute, or bf16 without those kernels) sum in an order that depends
// on the number of rows (docs/benchmarks.md "Continuous batching" has the measurement).
size_t independent_decode_rows(const Model& m);

// Whether prompts whose last prefill blocks have these row counts (Session::last_block_rows) may be
// prefilled together (Session::prefill_cached_together) with the same result as each alone: the
// model's forward rows must be independent (independent_decode_rows > 1: the bf16 small-batch
// projections, per-sequence attention, row-wise norms), the rows at most that many in total, and
// every block at least 2 rows (a 1-row block alone takes the fused decode step, whose last bits
// differ from the general path's). A test checks it bit for bit (tests/model).
bool prefill_together_exact(const Model& m, std::span<const size_t> last_block_rows);

// Prompts in order (their last blocks' row counts) split into runs, each as long as
// prefill_together_exact allows: returns each run's end. A run of one prompt is prefilled alone
// (Generation's own constructor), a longer one together (Session::prefill_cached_together).
std::vector<size_t> prefill_runs(const Model& m, std::span<const size_t> last_block_rows);

// Logprob of `id` and the k most likely allowed ids of one logits row (TokenLogprobs), in O(V).
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t id, int k, TokenMask allowed = {});

}  // namespace um::model
