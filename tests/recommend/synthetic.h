#pragma once
// Small hand-made datasets for the recommend tests.
#include <string>
#include <vector>

#include "data/schema.h"

namespace um::recommend::testing {

inline data::Dataset make_dataset(size_t users, size_t items) {
  data::Dataset ds;
  ds.name = "toy";
  for (size_t u = 0; u < users; ++u) ds.users.push_back({.id = "u" + std::to_string(u)});
  for (size_t i = 0; i < items; ++i) ds.items.push_back({.id = "i" + std::to_string(i)});
  return ds;
}

inline void add(data::Dataset& ds, const std::string& user, const std::string& item, int64_t t_us) {
  ds.interactions.push_back({.user_id = user, .item_id = item, .timestamp_us = t_us});
}

}  // namespace um::recommend::testing
