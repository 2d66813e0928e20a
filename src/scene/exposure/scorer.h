#pragma once
// Exposure scorers (docs/method.md §4.3): each ranks items for one sampled interaction and returns its
// top-K item rows. One file per scorer in this folder, registered by name in scorer_registry.cpp.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/compat.h"
#include "scene/dataset_index.h"
#include "scene/strategy.h"
#include "util/rng.h"

namespace um::scene {

// The sampled interaction a scorer ranks items for.
struct ScoreQuery {
  uint32_t user;          // user row
  uint32_t ground_truth;  // item row
  int64_t target_us;
  size_t history_end;  // timeline entries [0, history_end) are strictly before target_us
};

// Shared, immutable inputs of the scorers.
struct ScorerContext {
  const DatasetIndex& index;
  const SocialGraph& social;
  std::filesystem::path work;             // for the embeddings/ caches ("" = no cache)
  std::filesystem::path content_vectors;  // user-supplied item vectors ("" = the reference cache)
  uint64_t seed = 0;
  unsigned threads = 0;
  bool collaborative_full_history = false;  // reference §11.3: query with the user's whole row
  // --compat reference (docs/reference-differences.md): the collaborative and social scores go
  // through the reference's float32 row softmax before top-k (scores far below the maximum underflow
  // to 0 and the zero-probability ties fill the list at the lowest iids); the social scorer counts
  // friends' interactions at any time over every iid; the content query is the embedding row whose
  // index is the ground truth's iid (§11.2).
  data::Compat compat = data::Compat::usermirror;
};

// The reference's torch.softmax over one float32 row, in place: p = exp(s − max) · (1 / Σ exp(s − max)).
void float32_softmax(float* scores, size_t n);

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string_view name() const = 0;
  // Appends up to k item rows, best first. `rng` is this scene's stream for this scorer.
  virtual void top_k(const ScoreQuery& q, size_t k, util::Rng& rng, std::vector<uint32_t>& out) const = 0;
  // Optional: prepares the top-k lists of many queries at once before their top_k() calls (the
  // content scorer blocks them into matrix-matrix products). top_k() returns the same lists either way.
  virtual void prefetch(const std::vector<ScoreQuery>& /*queries*/, size_t /*k*/,
                        unsigned /*threads*/) const {}
};

// Scorer names: random, collaborative, content, social, popularity. Construction may compute or
// load embeddings (collaborative, content). Throws util::NotSupported for an unknown name.
std::unique_ptr<Scorer> make_scorer(std::string_view name, const ScorerContext& ctx);
std::vector<std::string> scorer_names();

// Indices of the k largest scores (ties → lower index first), best first.
void top_k_indices(const float* scores, size_t n, size_t k, std::vector<uint32_t>& out);

namespace scorers {
std::unique_ptr<Scorer> random(const ScorerContext& ctx);
std::unique_ptr<Scorer> collaborative(const ScorerContext& ctx);
std::unique_ptr<Scorer> content(const ScorerContext& ctx);
std::unique_ptr<Scorer> social(const ScorerContext& ctx);
std::unique_ptr<Scorer> popularity(const ScorerContext& ctx);
}  // namespace scorers

}  // namespace um::scene
