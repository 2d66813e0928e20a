#pragma once
// The unified schema (docs/method.md §2.1): users, items and interactions of one dataset.
//
// Nested objects (descriptions, features, behaviour features) are kept as compact JSON text: the
// readers build them once, the writers copy them verbatim, and the scene renderers parse only the
// few rows a scene touches. Timestamps are instants in UTC epoch microseconds; ids are opaque
// strings end to end (docs/method.md §2.1 recommends exactly that).
#include <cstdint>
#include <string>
#include <vector>

namespace um::data {

struct User {
  std::string id;
  std::string description = "{}";  // JSON object: human-readable profile attributes
  std::string features = "{}";     // JSON object: machine features
};

struct Item {
  std::string id;
  std::string description = "{}";  // JSON object: title, genres, ... (template placeholders)
  std::string features = "{}";     // JSON object: e.g. year, upload time
};

struct Interaction {
  std::string user_id;
  std::string item_id;
  int64_t timestamp_us = 0;     // UTC epoch microseconds
  std::string behavior = "{}";  // JSON object: rating, review, impressions, ...
};

struct Dataset {
  std::string name;  // reference dataset name, e.g. "ml-1m", "MIND", "Amazon-Magazine_Subscriptions"
  std::vector<User> users;
  std::vector<Item> items;
  std::vector<Interaction> interactions;
};

// File names of the reference layout (docs/method.md §1.2), relative to the work dir.
std::string user_file(const std::string& dataset);         // raws/<DS>_user_feature.jsonl
std::string item_file(const std::string& dataset);         // raws/<DS>_item_feature.jsonl
std::string interaction_file(const std::string& dataset);  // raws/<DS>_interaction.jsonl
std::string cache_file(const std::string& dataset);        // raws/<DS>.umds (binary cache)

}  // namespace um::data
