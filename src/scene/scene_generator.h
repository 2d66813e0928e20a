#pragma once
// Builds simulation scenes from an in-memory dataset (docs/method.md §3–4). Immutable after
// construction; build() is thread-safe and a pure function of (dataset, config, record, target),
// so output does not depend on the thread count or on which scenes are built together.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/schema.h"
#include "scene/dataset_index.h"
#include "scene/exposure/merge.h"
#include "scene/exposure/scorer.h"
#include "scene/scene_record.h"
#include "scene/strategy.h"

namespace um::scene {

enum class ImpressionMode {
  Auto,     // real impressions for the train split of datasets that have them (MIND), else sampled
  Real,     // real impressions (error if the dataset has none)
  Sampled,  // always sampled exposures
};

inline constexpr size_t kMaxHistoryWindow = 1000;  // SceneConfig::history_window

struct SceneConfig {
  std::string split = "eval";  // "eval" | "train": names the RNG streams
  size_t samples = 256;
  ExposureShape shape;
  uint64_t seed = 0;
  unsigned threads = 0;                   // 0 = all cores
  std::vector<std::string> scorers;       // empty = the strategy's defaults (+ content if vectors exist)
  std::filesystem::path work;             // embedding caches under work/embeddings ("" = none)
  std::filesystem::path content_vectors;  // see exposure/content.cpp
  // Unset: the compat default (false; true with Compat::reference).
  std::optional<bool> collaborative_full_history;
  // Auto with Compat::reference is Sampled (the reference's only working path, §4.8).
  ImpressionMode impressions = ImpressionMode::Auto;
  size_t top_k = 0;  // per-scorer list length; 0 = max(32, 3 × max_options) as the reference
  // History entries per scene: 0 = the reference's window, drawn per scene from 2–10 (stream
  // "history"); N (at most kMaxHistoryWindow) = the N most recent entries (all when fewer).
  size_t history_window = 0;
  // Compat::reference turns on every reference behaviour of scene building at once (ground-truth
  // positions, collaborative query and float32-softmax ranking, content query, social scorer, the
  // scorer set with content always on, sampled MIND train exposures); explicit options still win.
  data::Compat compat = data::Compat::usermirror;
};

struct SceneOutcome {
  std::optional<SceneRecord> record;
  std::string skip_reason;              // set when record is empty
  uint32_t dropped_static_history = 0;  // MIND click-history ids absent from the item table
};

class SceneGenerator {
 public:
  // Throws util::NotSupported for an unknown dataset name or scorer, util::Error for bad input.
  SceneGenerator(const data::Dataset& ds, SceneConfig cfg);
  ~SceneGenerator();

  // §4.2: candidate interactions (order_id >= 3, or real impressions with a length in range),
  // restricted to `users` when given, then min(samples, #candidates) of them drawn without
  // replacement; returned in draw order. `candidates` receives the pool size.
  std::vector<uint32_t> sample_targets(const std::vector<std::string>* users,
                                       size_t* candidates = nullptr) const;

  // The scene of target interaction `interaction`, drawn as sample number `record`.
  // Lets the scorers prepare the scenes of these interactions in bulk (see Scorer::prefetch); build()
  // gives the same result with or without it.
  void prefetch(const std::vector<uint32_t>& interactions, unsigned threads) const;
  SceneOutcome build(uint64_t record, uint32_t interaction) const;

  // The scene text of an arbitrary exposure `items` (item rows, in page order) shown to `user` at
  // time t_us: profile, the history window of the user's interactions strictly before t_us (window
  // length drawn from stream "history" at `record`, as build() does) followed by `appended` items
  // (e.g. choices made earlier in a simulated session; rendered with empty behaviour features at
  // time t_us), and the exposure entries. Used by the arena; build() is unchanged.
  SceneText render(uint64_t record, uint32_t user, int64_t t_us, const std::vector<uint32_t>& items,
                   const std::vector<uint32_t>& appended = {}) const;

  bool real_impressions() const { return real_; }
  const std::vector<std::string>& scorer_names() const { return scorer_names_; }
  const DatasetIndex& index() const { return index_; }
  const Strategy& strategy() const { return *strategy_; }

 private:
  std::string stage(const char* name) const { return "scenes/" + cfg_.split + "/" + name; }
  std::vector<std::string> history_entries(uint64_t record, uint32_t user, size_t before, SceneOutcome& o,
                                           const SceneView& view,
                                           const std::vector<uint32_t>& appended = {}) const;
  std::vector<uint32_t> sampled_negatives(uint64_t record, uint32_t user, uint32_t gt, int64_t t,
                                          size_t before) const;

  const data::Dataset& ds_;
  SceneConfig cfg_;
  DatasetIndex index_;
  std::unique_ptr<Strategy> strategy_;
  SocialGraph social_;
  std::vector<nlohmann::json> item_desc_;
  std::vector<int64_t> release_;  // kNoRelease = never filtered
  std::vector<std::unique_ptr<Scorer>> scorers_;
  std::vector<std::string> scorer_names_;
  bool real_ = false;
  size_t k_ = 32;
};

}  // namespace um::scene
