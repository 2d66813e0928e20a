#pragma once
// Per-dataset scene strategies (docs/method.md §3.1–3.4, §4.3, §4.6): the three templates, the derived
// features, the release time used by the time filter, and the default scorers. One file per
// strategy under strategy/, registered by family in strategy/strategy_registry.cpp.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scene/dataset_index.h"
#include "scene/template.h"

namespace um::scene {

// Per-user friend lists (user rows), from user_features.friends; empty when not used.
struct SocialGraph {
  std::vector<std::vector<uint32_t>> friends;
  bool empty() const { return friends.empty(); }
};

// What a feature function may look at for one scene.
struct SceneView {
  const DatasetIndex& index;
  const SocialGraph& social;
  uint32_t user;      // user row
  int64_t target_us;  // time of the sampled interaction
};

// One history entry as the reference joins it: the item's description, the interaction's
// behaviour features and its time (nullopt for MIND's static click history).
struct HistoryInput {
  uint32_t item;
  const nlohmann::json& description;
  const nlohmann::json& behavior;
  std::optional<int64_t> timestamp_us;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  const std::string& name() const { return name_; }
  const Template& profile_template() const { return profile_; }
  const Template& item_template() const { return item_; }
  const Template& history_template() const { return history_; }

  // Derived features of an exposed item / a history entry (added after the description, §3.2).
  virtual void item_features(const SceneView&, uint32_t /*item*/, const nlohmann::json& /*description*/,
                             Fields&) const {}
  virtual void history_features(const SceneView&, const HistoryInput&, Fields&) const {}

  // Time filter (§4.6): the item's release instant; nullopt = never filtered.
  virtual bool has_time_filter() const { return false; }
  virtual std::optional<int64_t> release_time(const nlohmann::json& /*description*/,
                                              const nlohmann::json& /*features*/) const {
    return std::nullopt;
  }

  virtual std::vector<std::string> default_scorers() const { return {"random", "collaborative"}; }
  // MIND: the last 10 ids of user_features.history precede the real history (§3.2).
  virtual bool static_click_history() const { return false; }
  // MIND: behavior_features.impression_list / item_pos hold the real exposure (§4.8).
  virtual bool has_real_impressions() const { return false; }
  // LastFM: user_features.friends is loaded into the SocialGraph.
  virtual bool uses_friends() const { return false; }

 protected:
  Strategy(std::string name, std::string_view profile, std::string_view item, std::string_view history)
      : name_(std::move(name)), profile_(profile), item_(item), history_(history) {}

 private:
  std::string name_;
  Template profile_, item_, history_;
};

// The strategy for a dataset name: the family its row in the reader table names
// (data::ReaderEntry::scene_family), so every name `prepare` accepts has one (Amazon-<Category>
// included). Throws util::NotSupported for other names.
std::unique_ptr<Strategy> make_strategy(std::string_view dataset);
// The dataset names that have a strategy: the reader table's names (data::dataset_names()).
std::vector<std::string> strategy_names();
// The keys of the strategy table ("amazon", "movielens", "steam", ...).
std::vector<std::string> strategy_families();

}  // namespace um::scene
