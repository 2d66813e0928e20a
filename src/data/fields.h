#pragma once
// External names of the reference's unified JSONL layout, in one table (docs/method.md §2.1).
namespace um::data::fields {

inline constexpr const char* kUserId = "user_id";
inline constexpr const char* kItemId = "item_id";
inline constexpr const char* kTimestamp = "timestamp";
inline constexpr const char* kUserDescription = "user_description";
inline constexpr const char* kUserFeatures = "user_features";
inline constexpr const char* kItemDescription = "item_description";
inline constexpr const char* kItemFeatures = "item_features";
inline constexpr const char* kBehaviorFeatures = "behavior_features";

}  // namespace um::data::fields
