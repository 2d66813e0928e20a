#pragma once
// The scene record (docs/method.md §3.5): one line of <WORK>/datasets/<DS>_{train,eval}.jsonl, read
// and written here for every component (scenes, distil, decide, score, evaluate), and the released
// UserMirrorer eval/train rows (§1.4). Field names: scene/scene_fields.h.
//
//   util::JsonLineParser parser;
//   SceneRecord scene;
//   parse_scene(parser, line, scene, /*want_text=*/false, {.file = path, .line = n});
//
// Parsing throws util::Error with the file, line and field of the first problem.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat_message.h"
#include "text/prompt.h"
#include "util/error.h"
#include "util/json_line.h"
#include "util/json_writer.h"

namespace um::scene {

// profile, action_list (rendered exposure entries, un-lettered, in order), history.
using text::SceneText;

// Ids are kept as text: a JSON string's value, or a JSON number's literal (ml-1m ids may be numbers).
struct SceneRecord {
  SceneText text;  // filled only when parsed with want_text
  std::string user_id;
  std::string item_id;    // the ground truth
  int64_t timestamp = 0;  // epoch milliseconds
  int item_pos = 0;       // 0-based index of the ground truth in the exposure
  int choice_cnt = 0;     // exposure length
  std::string dataset;
  std::vector<std::string> impression_list;  // exposure item ids (released eval set, --with-impressions)
};

// The most options a scene may have: one letter A..Z each.
inline constexpr int kMaxSceneOptions = 26;

// One line of a scene file. Text fields in any order; ids strings or numbers; timestamp epoch
// milliseconds (integral floats accepted) or a "YYYY-MM-DD HH:MM:SS" string (the released eval set).
// Validates 1 <= choice_cnt <= kMaxSceneOptions, item_pos < choice_cnt, an impression_list as long as
// choice_cnt and, with text, action_list.size() == choice_cnt. Without want_text, text is only
// required to be present (the fast path of distil).
void parse_scene(util::JsonLineParser& parser, const util::JsonLine& line, SceneRecord& out, bool want_text,
                 const util::Location& where);
// Every scene of a file, with text; blank lines are skipped. Errors name file, line and field.
std::vector<SceneRecord> read_scene_file(const std::filesystem::path& path);

// The §3.5 field order: text{profile, action_list, history}, user_id, item_id, timestamp, item_pos,
// choice_cnt, dataset [, impression_list when with_impressions]. Non-ASCII is escaped as \uXXXX (like
// pandas) when `w` was made with ascii = true.
void write_scene(util::JsonWriter& w, const SceneRecord& r, bool with_impressions);

// A row of the released train set (MirrorUser/UserMirrorer).
struct PreferenceRecord {
  std::string dataset, user_id, item_id;
  int64_t timestamp_ms = 0;
  std::vector<text::ChatMessage> messages_chosen, messages_rejected;
  std::vector<std::string> impression_list;
  int item_pos = -1;  // -1 when absent
};

// Reader of the released train set. Ids may be strings or integers; timestamps epoch milliseconds or
// "YYYY-MM-DD HH:MM:SS" strings. Errors name file, line and field.
std::vector<PreferenceRecord> read_preference_file(const std::filesystem::path& path);
PreferenceRecord parse_preference_line(std::string_view line, const std::string& file = "",
                                       int64_t line_no = 0);

}  // namespace um::scene
