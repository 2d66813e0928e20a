#pragma once
// The embedded inference engine: Hugging Face causal-LM directories, exact forward pass on libtorch,
// KV cache behind sequence operations, prefix-shared scoring and sampling.
//
//   auto m = model::Model::load("models/qwen3-0.6b", {.dtype = model::DType::BF16});
//   model::Session s(m);
//   model::SeqId seq = s.create();
//   model::Logits l = s.append(seq, prompt_ids);            // [1, vocab], last position
//   auto p = model::option_distribution(l.row(0), letter_ids);  // softmax over the option tokens
//   model::SeqId c = s.fork(seq);                             // shares nothing mutable with `seq`
//
// No torch type appears here: other components include this header without libtorch.
//
// Thread safety: a Model is immutable after load and may be shared by any number of Sessions on
// any threads. A Session (KV cache, scratch, prefix cache) is used by one thread at a time.
// Errors: util::Error for bad files (with file and field), util::NotSupported for configurations or
// requests the engine deliberately does not handle (the message names the field).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/generate.h"
#include "model/init.h"
#include "model/sampling.h"

namespace um::model {

enum class DType { F32, BF16 };
DType parse_dtype(const std::string& s);  // "f32" | "bf16"
const char* dtype_name(DType d);

struct LoadOptions {
  DType dtype = DType::BF16;  // compute dtype; weights stored otherwise are converted once at load
  int threads = 0;            // 0 = all cores (torch::set_num_threads)
  // false (default): weights stay the stored [out, in] tensors as zero-copy views over the memory
  // mapping (at::linear). true: one pre-transposed, fused (qkv, gate|up) copy used with at::matmul,
  // the mapping's pages released afterwards. Measured equal speed on the project machine
  // (docs/benchmarks.md "Engine"), so the copy-free layout is the default.
  bool pretranspose = false;
};

// Sets the process-wide torch thread count (0 = cores) and OMP_WAIT_POLICY=PASSIVE when unset.
// Called by Model::load (which also keeps freed heap memory for the next forward pass:
// util::keep_freed_heap); exposed for benchmarks.
void configure_threads(int threads);

// Immutable weights + configuration. Create with Model::load; share via shared_ptr<const Model>.
class Model {
 public:
  struct Impl;
  static std::shared_ptr<const Model> load(const std::filesystem::path& dir, const LoadOptions& opts = {});
  explicit Model(std::unique_ptr<Impl> impl);
  ~Model();
  const ModelConfig& config() const;
  DType dtype() const;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Row-major float32 logits, `rows` × `cols` (cols = vocab size).
struct Logits {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> data;
  std::span<const float> row(size_t r) const { return {data.data() + r * cols, cols}; }
};

using SeqId = int64_t;

// One request of a batched forward: append `tokens` to sequence `seq`.
struct Append {
  SeqId seq = 0;
  std::vector<int32_t> tokens;
  bool all_positions = false;  // logits for every appended position instead of only the last
};

// Per-request state: KV cache of every live sequence and an LRU prefix cache. Not thread-safe.
class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, size_t prefix_cache_entries = 8);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Model& model() const { return *model_; }

  // --- sequence operations: the only way the KV cache changes ---
  SeqId create();
  // New sequence with a copy of seq's tokens and KV state, with room for `extra` more tokens (a hint:
  // the cache grows as needed either way, but growing copies it again).
  SeqId fork(SeqId seq, size_t extra = 0);
  void truncate(SeqId seq, size_t len);  // keep the first `len` tokens
  void release(SeqId seq);
  const std::vector<int32_t>& tokens(SeqId seq) const;
  size_t live_sequences() const;

  // Appends tokens to one sequence and returns its logits (1 row, or one per token).
  Logits append(SeqId seq, std::span<const int32_t> tokens, bool all_positions = false);
  // Batched forward over several sequences (distinct ids, any lengths): every token of every request
  // goes through the projections together; attention runs per sequence. Rows of the result are the
  // requests' rows in order.
  Logits append_batch(const std::vector<Append>& requests);

  // --- prefix cache ---
  // Returns a new sequence holding `tokens`, reusing the longest cached prefix, plus the logits of
  // the last token. The prefix is remembered (LRU) for later calls. `tokens` must be non-empty.
  // Prefill runs in blocks of kPrefillBlock tokens at absolute positions and reuse is rounded down to
  // a block boundary, so the result is bit-identical whether or not a prefix was cached. 128 measured
  // best on the 0.5B shape (docs/benchmarks.md "Engine"): 64-token blocks ran the projections at
  // ~0.35 of the GEMM peak, 256-token blocks recompute too much of a cached scene prompt.
  //
  // `split` (0 = none) is a position where the caller knows that prompts sent together diverge (the
  // end of a prefix they share). Blocks then run [0, B), ..., [kB, split), [split, split + B), ...
  // and a cached prefix computed with the same split is reused up to exactly `split`, so the shared
  // part is computed once however long it is. Still bit-identical with and without the cache: reuse
  // only ends where both the cached sequence and this one have a block boundary, with the same blocks
  // before it.
  //
  // `cancelled` (optional) is asked before every block: when it answers true, the sequence is
  // released, nothing is remembered, and util::Error("... cancelled") is thrown (a request whose
  // client left stops within one block of a long prompt).
  SeqId prefill_cached(std::span<const int32_t> tokens, Logits* last_logits, size_t split = 0,
                       const std::function<bool()>& cancelled = {});
  static constexpr size_t kPrefillBlock = 128;
  // How many tokens prefill_cached computes in its last forward for a prompt of `tokens` tokens
  // split at `split` (the rest are whole blocks, cached or computed alone): 1 to kPrefillBlock.
  static size_t last_block_rows(size_t tokens, size_t split);

  // Several prompts prefilled as prefill_cached prefills each one — the same blocks, the same
  // reuse rule, each remembered in the prefix cache — except that the last blocks of all of them go
  // through the model in one forward (a scheduler admitting several requests at once streams the
  // weights once instead of once per prompt). Returns one new sequence per prompt, and in
  // `last_logits` one row per prompt (its last position). The sequences and rows equal
  // prefill_cached's alone only where the rows of a forward do not depend on each other: see
  // model::together_prefill_rows (generate.h), which callers check. On an exception no sequence is
  // left behind. (No prompt reuses another of the same call: every block is computed the same way
  // with and without reuse, so this changes no result.)
  struct PrefillPrompt {
    std::span<const int32_t> tokens;
    size_t split = 0;
    // Optional, as prefill_cached's: asked before each of this prompt's blocks; when it
    // answers true the call releases every sequence it made and throws util::Error("... cancelled").
    std::function<bool()> cancelled = {};
  };
  std::vector<SeqId> prefill_cached_together(std::span<const PrefillPrompt> prompts, Logits* last_logits);
  size_t prefix_cache_hits() const { return prefix_hits_; }
  size_t tokens_computed() const { return tokens_computed_; }  // tokens that went through the model

  struct State;

 private:
  // prefill_cached in parts: the sequence with the longest reusable cached prefix and every block
  // but the last computed (`last`: where the last block starts); then the last block; then
  // remember_prefix puts the whole prompt into the LRU cache.
  struct Head {
    SeqId seq = 0;
    size_t last = 0;
  };
  Head prefill_head(std::span<const int32_t> tokens, size_t split, const std::function<bool()>& cancelled);
  void remember_prefix(SeqId seq, std::span<const int32_t> tokens, size_t split);

  std::shared_ptr<const Model> model_;
  std::unique_ptr<State> state_;
  size_t prefix_hits_ = 0;
  size_t tokens_computed_ = 0;
};

// ---- scoring (torch-free pure functions in option_distribution.cpp) ----

// Softmax of `logits` restricted to `option_ids` (in that order), computed in double. The method's
// score quantity (reference doc §7). Throws util::Error on an out-of-range id.
std::vector<double> option_distribution(std::span<const float> logits, std::span<const int32_t> option_ids);
// Full log-softmax over the vocabulary (double accumulation, float result).
std::vector<float> log_softmax(std::span<const float> logits);

struct OptionScores {
  std::vector<double> probs;    // one per option id
  std::vector<float> logprobs;  // full next-token log-probs, only when asked
};

// Next-token option distribution after `prefix_tokens` (prefix cache used).
// `split`: Session::prefill_cached's shared-prefix boundary (0 = none).
OptionScores score_options(Session& s, std::span<const int32_t> prefix_tokens,
                           std::span<const int32_t> option_ids, bool full_logprobs = false, size_t split = 0);
// A group of prompts that share their first `split` tokens (the pages shown to one user at one
// time): prompt 0 as score_options(s, prompts[0], ..., split) — bit-identical to asking it alone —
// then every other prompt whose first `split` tokens equal prompt 0's continues from a fork of that
// shared part, their remaining blocks (kPrefillBlock tokens from `split`) batched block step by block
// step, so the projections see all of their tokens at once. The others are asked alone. Results
// depend on the group (its prompts, in order) and nothing else — not on the cache or on earlier
// requests — so a caller that re-asks whole groups gets identical results on every run; they may
// differ in the last bits from asking each prompt alone. option_ids: one list per prompt.
//
// Cancellation (optional): `cancelled(i)` says whether prompt i's caller went away; it is asked before
// every unit of work (a prefill block, a block step, a prompt asked alone). A cancelled prompt asked
// alone is skipped. Work shared with live prompts (prompt 0's prefill, which holds the shared part,
// and the batched block steps) still runs in full, cancelled rows included, because the bits of a
// batched row may depend on the rows beside it: a cancelled member never changes the others'
// results. Block steps that serve only cancelled prompts are skipped, and when every prompt is
// cancelled the call releases its sequences and throws util::Error("option scoring cancelled").
// A cancelled prompt's OptionScores may be left empty (the caller answers it as cancelled).
std::vector<OptionScores> score_option_group(Session& s, const std::vector<std::vector<int32_t>>& prompts,
                                             size_t split,
                                             const std::vector<std::vector<int32_t>>& option_ids,
                                             const std::function<bool(size_t prompt)>& cancelled = {});
// Prefix sharing: `prompt` is prefilled once (prefix cache), every continuation is appended to a fork
// of it in one batch, and the option distribution after each continuation is returned.
std::vector<OptionScores> score_continuations(Session& s, std::span<const int32_t> prompt,
                                              const std::vector<std::vector<int32_t>>& continuations,
                                              std::span<const int32_t> option_ids,
                                              bool full_logprobs = false);

// ---- inspection (`usermirror logits`) ----

// Forward pass over `ids` from an empty sequence: logits of the last position, or of every position.
Logits logits_for_ids(const std::filesystem::path& model_dir, std::span<const int32_t> ids,
                      bool all_positions, DType dtype);
// Writes little-endian float32, row-major, atomically.
void write_logits_f32(const std::filesystem::path& path, const Logits& logits);

}  // namespace um::model
