#pragma once
// GF-CF-style collaborative item embedding (docs/method.md §4.4): R̃ = D_u^{-1/2} R D_i^{-1/2} over the
// (user, iid) interaction counts, degrees clipped below at 1; V = the top `rank` right singular
// vectors of R̃ from a seeded randomised subspace iteration; E = diag(sqrt(d_i)) · V.
// Deterministic for a given (interactions, seed), independent of the thread count.
#include <cstdint>
#include <filesystem>

#include "scene/dataset_index.h"
#include "scene/exposure/safetensors_io.h"

namespace um::scene {

struct CollaborativeParams {
  int rank = 64;
  int oversample = 16;
  int power_iterations = 6;
  uint64_t seed = 0;
  unsigned threads = 0;
};

// E: num_iids × min(rank, num_iids), row-major float32.
Matrix2D collaborative_embedding(const DatasetIndex& index, const CollaborativeParams& p);

// Loads <work>/embeddings/<DS>.collaborative.safetensors (key item_collaborative_embedding) when its
// metadata matches these interactions and parameters; otherwise computes and (re)writes it.
// work == "" disables the cache.
Matrix2D cached_collaborative_embedding(const DatasetIndex& index, const CollaborativeParams& p,
                                        const std::filesystem::path& work, bool* from_cache = nullptr);

}  // namespace um::scene
