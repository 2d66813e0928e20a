#pragma once
// The transformer forward pass over packed requests. Internal to src/model (includes ATen).
#include <ATen/ATen.h>

#include <span>
#include <vector>

#include "model/detail/model_impl.h"

namespace um::model::detail {

// KV state of one sequence: per layer K and V of shape [kv_heads, cap, head_dim]; positions
// [0, len) are valid. Only Session mutates it (through forward() appending).
struct KvSeq {
  std::vector<at::Tensor> k, v;
  int64_t len = 0;
  int64_t cap = 0;
  std::vector<int32_t> tokens;
};

// Grows every layer's K/V so that `needed` positions fit (amortised doubling).
void reserve(const Model::Impl& m, KvSeq& s, int64_t needed);
// Copy of the first `len` positions, with room for `extra` more.
KvSeq clone_prefix(const Model::Impl& m, const KvSeq& s, int64_t len, int64_t extra = 0);

struct Segment {
  KvSeq* kv = nullptr;
  std::span<const int32_t> tokens;
  bool all_positions = false;
  bool no_logits = false;  // no rows for this segment (a prefill block that only fills the cache)
};

// Appends every segment's tokens to its sequence (K/V written at [len, len+T), then len += T and
// tokens extended) and returns float32 logits [rows, vocab]: the last position of each segment, or
// all of its positions when all_positions, none when no_logits. Sequences must be distinct. On an exception
// no sequence's len or tokens change.
at::Tensor forward(const Model::Impl& m, const std::vector<Segment>& segs);

}  // namespace um::model::detail
