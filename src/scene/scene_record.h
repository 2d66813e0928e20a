#pragma once
// Scene records in the reference's JSONL schema (docs/method.md §3.5) and the released UserMirrorer
// eval/train rows (§1.4). External field names live in scene_record.cpp only.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "text/chat_message.h"
#include "text/prompt.h"

namespace um::scene {

// profile, action_list (rendered exposure entries, un-lettered, in order), history.
using text::SceneText;

struct SceneRecord {
  SceneText text;
  std::string user_id;
  std::string item_id;  // the ground truth
  int64_t timestamp_ms = 0;
  int item_pos = 0;    // 0-based index of the ground truth in the exposure
  int choice_cnt = 0;  // exposure length
  std::string dataset;
  std::vector<std::string> impression_list;  // exposure item ids (written only on request)
};

// One line (with '\n'): text{profile, action_list, history}, user_id, item_id, timestamp,
// item_pos, choice_cnt, dataset [, impression_list]. Non-ASCII is escaped as \uXXXX like pandas.
void append_scene_json(std::string& out, const SceneRecord& r, bool with_impressions = false);

// A row of the released train set (MirrorUser/UserMirrorer).
struct PreferenceRecord {
  std::string dataset, user_id, item_id;
  int64_t timestamp_ms = 0;
  std::vector<text::ChatMessage> messages_chosen, messages_rejected;
  std::vector<std::string> impression_list;
  int item_pos = -1;  // -1 when absent
};

// Readers for our scene files and the released eval set (text{action_list, history, profile},
// user_id, item_id, timestamp, item_pos, choice_cnt, dataset, impression_list) and train set.
// Ids may be strings or integers; timestamps epoch milliseconds or "YYYY-MM-DD HH:MM:SS" strings.
// Errors name file, line and field.
std::vector<SceneRecord> read_scene_file(const std::filesystem::path& path);
SceneRecord parse_scene_line(std::string_view line, const std::string& file = "", int64_t line_no = 0);
std::vector<PreferenceRecord> read_preference_file(const std::filesystem::path& path);
PreferenceRecord parse_preference_line(std::string_view line, const std::string& file = "",
                                       int64_t line_no = 0);

}  // namespace um::scene
