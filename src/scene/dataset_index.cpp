#include "scene/dataset_index.h"

#include <algorithm>

namespace um::scene {

DatasetIndex::DatasetIndex(const data::Dataset& ds) : ds_(ds) {
  user_rows_.reserve(ds.users.size() * 2);
  for (size_t i = 0; i < ds.users.size(); ++i) user_rows_.emplace(ds.users[i].id, static_cast<uint32_t>(i));
  item_rows_.reserve(ds.items.size() * 2);
  for (size_t i = 0; i < ds.items.size(); ++i) item_rows_.emplace(ds.items[i].id, static_cast<uint32_t>(i));

  const size_t n = ds.interactions.size();
  inter_user_.resize(n);
  inter_item_.resize(n);
  item_iid_.assign(ds.items.size(), -1);
  std::vector<uint32_t> per_user(ds.users.size() + 1, 0);
  for (size_t k = 0; k < n; ++k) {
    const auto& it = ds.interactions[k];
    auto u = user_rows_.find(it.user_id);
    auto i = item_rows_.find(it.item_id);
    if (u == user_rows_.end() || i == item_rows_.end()) {
      inter_user_[k] = inter_item_[k] = kInvalid;
      ++num_invalid_;
      continue;
    }
    inter_user_[k] = u->second;
    inter_item_[k] = i->second;
    per_user[u->second + 1]++;
    if (item_iid_[i->second] < 0) {
      item_iid_[i->second] = static_cast<int32_t>(iid_item_.size());
      iid_item_.push_back(i->second);
    }
  }
  for (size_t u = 0; u < ds.users.size(); ++u) per_user[u + 1] += per_user[u];
  timeline_off_ = per_user;
  timeline_.resize(n - num_invalid_);
  {
    std::vector<uint32_t> fill(per_user.begin(), per_user.end() - 1);
    for (size_t k = 0; k < n; ++k) {
      if (valid(k)) timeline_[fill[inter_user_[k]]++] = static_cast<uint32_t>(k);
    }
  }
  order_id_.assign(n, kInvalid);
  touched_off_.assign(ds.users.size() + 1, 0);
  std::vector<uint32_t> items;
  for (size_t u = 0; u < ds.users.size(); ++u) {
    auto* b = timeline_.data() + timeline_off_[u];
    auto* e = timeline_.data() + timeline_off_[u + 1];
    // Already in file order, so a stable sort by time keeps file order among ties.
    std::stable_sort(b, e, [&](uint32_t x, uint32_t y) {
      return ds.interactions[x].timestamp_us < ds.interactions[y].timestamp_us;
    });
    for (auto* p = b; p != e; ++p) order_id_[*p] = static_cast<uint32_t>(p - b);
    items.clear();
    for (auto* p = b; p != e; ++p) items.push_back(inter_item_[*p]);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    touched_.insert(touched_.end(), items.begin(), items.end());
    touched_off_[u + 1] = static_cast<uint32_t>(touched_.size());
  }
}

int64_t DatasetIndex::user_row(std::string_view id) const {
  auto it = user_rows_.find(id);
  return it == user_rows_.end() ? -1 : static_cast<int64_t>(it->second);
}

int64_t DatasetIndex::item_row(std::string_view id) const {
  auto it = item_rows_.find(id);
  return it == item_rows_.end() ? -1 : static_cast<int64_t>(it->second);
}

size_t DatasetIndex::count_before(uint32_t user, int64_t t_us) const {
  auto tl = timeline(user);
  auto it = std::lower_bound(tl.begin(), tl.end(), t_us,
                             [&](uint32_t k, int64_t t) { return ds_.interactions[k].timestamp_us < t; });
  return static_cast<size_t>(it - tl.begin());
}

bool DatasetIndex::has_touched(uint32_t user, uint32_t item) const {
  auto s = touched(user);
  return std::binary_search(s.begin(), s.end(), item);
}

}  // namespace um::scene
