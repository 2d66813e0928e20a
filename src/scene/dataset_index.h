#pragma once
// Read-only indexes over a data::Dataset that scene building needs: id → row maps, per-user
// timelines sorted by time, the reference's order_id, the interaction id space (iid, §4.1) and
// per-user sets of touched items. Built once, then shared by all threads (immutable).
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/schema.h"

namespace um::scene {

class DatasetIndex {
 public:
  // Interactions naming a user or item absent from the tables (MIND's shared sample has such
  // clicks) are left out of every index: never a target, never history, never in the scorers.
  explicit DatasetIndex(const data::Dataset& ds);

  const data::Dataset& dataset() const { return ds_; }
  size_t num_users() const { return ds_.users.size(); }
  size_t num_items() const { return ds_.items.size(); }

  // Row of an id in users/items; -1 if unknown.
  int64_t user_row(std::string_view id) const;
  int64_t item_row(std::string_view id) const;

  // False for an interaction with an unknown user or item (see the constructor).
  bool valid(size_t k) const { return inter_user_[k] != kInvalid; }
  size_t num_invalid() const { return num_invalid_; }
  uint32_t interaction_user(size_t k) const { return inter_user_[k]; }
  uint32_t interaction_item(size_t k) const { return inter_item_[k]; }
  // 0-based rank of interaction k within its user's timeline (ties keep file order).
  uint32_t order_id(size_t k) const { return order_id_[k]; }

  // Interaction indices of a user, sorted by (timestamp, file order).
  struct Span {
    const uint32_t* b;
    const uint32_t* e;
    const uint32_t* begin() const { return b; }
    const uint32_t* end() const { return e; }
    size_t size() const { return static_cast<size_t>(e - b); }
  };
  Span timeline(uint32_t user) const {
    return {timeline_.data() + timeline_off_[user], timeline_.data() + timeline_off_[user + 1]};
  }
  // Number of timeline entries with timestamp strictly before t.
  size_t count_before(uint32_t user, int64_t t_us) const;
  // Sorted unique item rows the user ever interacted with.
  Span touched(uint32_t user) const {
    return {touched_.data() + touched_off_[user], touched_.data() + touched_off_[user + 1]};
  }
  bool has_touched(uint32_t user, uint32_t item) const;

  // iid space: items in order of first appearance in the interaction file (§4.1).
  size_t num_iids() const { return iid_item_.size(); }
  int32_t item_iid(uint32_t item) const { return item_iid_[item]; }
  uint32_t iid_item(size_t iid) const { return iid_item_[iid]; }

 private:
  static constexpr uint32_t kInvalid = 0xFFFFFFFFu;
  size_t num_invalid_ = 0;
  const data::Dataset& ds_;
  std::unordered_map<std::string_view, uint32_t> user_rows_, item_rows_;
  std::vector<uint32_t> inter_user_, inter_item_, order_id_;
  std::vector<uint32_t> timeline_off_, timeline_;
  std::vector<uint32_t> touched_off_, touched_;
  std::vector<int32_t> item_iid_;
  std::vector<uint32_t> iid_item_;
};

}  // namespace um::scene
