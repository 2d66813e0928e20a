#pragma once
// External field names of the scene record (docs/method.md §3.5): <WORK>/datasets/<DS>_train.jsonl
// and _eval.jsonl, and the released UserMirrorer eval set. Read and written by scene/scene_record.cpp;
// distil/reference_fields.h includes them beside the names of the reference's other files.
namespace um::scene::fields {

inline constexpr const char* kText = "text";
inline constexpr const char* kProfile = "profile";
inline constexpr const char* kActionList = "action_list";
inline constexpr const char* kHistory = "history";
inline constexpr const char* kUserId = "user_id";
inline constexpr const char* kItemId = "item_id";
inline constexpr const char* kTimestamp = "timestamp";
inline constexpr const char* kItemPos = "item_pos";
inline constexpr const char* kChoiceCnt = "choice_cnt";
inline constexpr const char* kDataset = "dataset";
inline constexpr const char* kImpressionList = "impression_list";  // released eval set, --with-impressions

}  // namespace um::scene::fields
