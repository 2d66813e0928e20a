#include "scene/scene_record.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "scene/scene_fields.h"
#include "util/error.h"
#include "util/json_line_access.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/time.h"

namespace um::scene {

namespace od = simdjson::ondemand;

void write_scene(util::JsonWriter& w, const SceneRecord& r, bool with_impressions) {
  w.begin_object();
  w.key(fields::kText);
  w.begin_object();
  w.key(fields::kProfile);
  w.value(r.text.profile);
  w.key(fields::kActionList);
  w.begin_array();
  for (const auto& a : r.text.action_list) w.value(a);
  w.end_array();
  w.key(fields::kHistory);
  w.value(r.text.history);
  w.end_object();
  w.key(fields::kUserId);
  w.value(r.user_id);
  w.key(fields::kItemId);
  w.value(r.item_id);
  w.key(fields::kTimestamp);
  w.value(r.timestamp);
  w.key(fields::kItemPos);
  w.value(r.item_pos);
  w.key(fields::kChoiceCnt);
  w.value(r.choice_cnt);
  w.key(fields::kDataset);
  w.value(r.dataset);
  if (with_impressions) {
    w.key(fields::kImpressionList);
    w.begin_array();
    for (const auto& id : r.impression_list) w.value(id);
    w.end_array();
  }
  w.end_object();
}

namespace {

using namespace util::json_line;  // NOLINT(google-build-using-namespace): at, fail, check, get_*

void parse_text(od::value v, SceneText& t, const util::Location& where) {
  od::object obj;
  check(v.get_object().get(obj), where, fields::kText);
  bool profile = false, actions = false, history = false;
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, fields::kText);
    if (key == fields::kProfile) {
      get_string(field.value(), t.profile, where, "text.profile");
      profile = true;
    } else if (key == fields::kActionList) {
      get_string_list(field.value(), t.action_list, where, "text.action_list");
      actions = true;
    } else if (key == fields::kHistory) {
      get_string(field.value(), t.history, where, "text.history");
      history = true;
    }
  }
  if (!profile) fail(where, "text.profile", "missing field");
  if (!actions) fail(where, "text.action_list", "missing field");
  if (!history) fail(where, "text.history", "missing field");
}

// Epoch milliseconds, or the released eval set's "YYYY-MM-DD HH:MM:SS" (UTC).
int64_t get_timestamp(od::value v, const util::Location& where) {
  od::json_type t{};
  check(v.type().get(t), where, fields::kTimestamp);
  if (t != od::json_type::string) return get_int(v, where, fields::kTimestamp);
  std::string_view s;
  check(v.get_string().get(s), where, fields::kTimestamp);
  if (auto us = util::parse_datetime(std::string(s))) return *us / 1000;
  fail(where, fields::kTimestamp, "timestamp must be epoch milliseconds or \"YYYY-MM-DD HH:MM:SS\"");
}

}  // namespace

void parse_scene(util::JsonLineParser& parser, const util::JsonLine& line, SceneRecord& out, bool want_text,
                 const util::Location& where) {
  od::document doc = parser.impl().iterate(line, where);
  od::object obj;
  check(doc.get_object().get(obj), where, "");
  out.impression_list.clear();
  unsigned seen = 0;  // bit per required field
  for (auto field : obj) {
    std::string_view key;
    check(field.unescaped_key().get(key), where, "");
    od::value v;
    check(field.value().get(v), where, key);
    if (key == fields::kText) {
      if (want_text) parse_text(v, out.text, where);
      seen |= 1;
    } else if (key == fields::kUserId) {
      get_id(v, out.user_id, where, key);
      seen |= 2;
    } else if (key == fields::kItemId) {
      get_id(v, out.item_id, where, key);
      seen |= 4;
    } else if (key == fields::kTimestamp) {
      out.timestamp = get_timestamp(v, where);
      seen |= 8;
    } else if (key == fields::kItemPos) {
      out.item_pos = static_cast<int>(get_int(v, where, key));
      seen |= 16;
    } else if (key == fields::kChoiceCnt) {
      out.choice_cnt = static_cast<int>(get_int(v, where, key));
      seen |= 32;
    } else if (key == fields::kDataset) {
      get_string(v, out.dataset, where, key);
      seen |= 64;
    } else if (key == fields::kImpressionList) {
      od::array arr;
      check(v.get_array().get(arr), where, key);
      for (auto el : arr) {
        od::value ev;
        check(el.get(ev), where, key);
        get_id(ev, out.impression_list.emplace_back(), where, key);
      }
    }
  }
  static constexpr const char* kRequired[] = {fields::kText,      fields::kUserId,  fields::kItemId,
                                              fields::kTimestamp, fields::kItemPos, fields::kChoiceCnt,
                                              fields::kDataset};
  for (unsigned b = 0; b < 7; ++b)
    if (!(seen & (1u << b))) fail(where, kRequired[b], "missing field");
  if (out.choice_cnt < 1 || out.choice_cnt > kMaxSceneOptions)
    fail(where, fields::kChoiceCnt, "choice_cnt must be in 1.." + std::to_string(kMaxSceneOptions));
  if (out.item_pos < 0 || out.item_pos >= out.choice_cnt)
    fail(where, fields::kItemPos, "item_pos must be in 0..choice_cnt-1");
  if (want_text && out.text.action_list.size() != static_cast<size_t>(out.choice_cnt))
    fail(where, "text.action_list", "action_list length differs from choice_cnt");
  if (!out.impression_list.empty() && out.impression_list.size() != static_cast<size_t>(out.choice_cnt))
    fail(where, fields::kImpressionList, "impression_list length differs from choice_cnt");
}

std::vector<SceneRecord> read_scene_file(const std::filesystem::path& path) {
  util::LineReader in(path);
  util::JsonLineParser parser;
  std::vector<SceneRecord> scenes;
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    parse_scene(parser, line, scenes.emplace_back(), true, {.file = path.string(), .line = in.line_number()});
  }
  return scenes;
}

namespace {

struct Ctx {
  const std::string& file;
  int64_t line;
  util::Error error(const std::string& msg, const std::string& field) const {
    return util::Error(msg, {.file = file, .line = line, .field = field});
  }
};

const nlohmann::json& need(const nlohmann::json& j, const char* key, const Ctx& c) {
  auto it = j.find(key);
  if (it == j.end()) throw c.error("missing field", key);
  return *it;
}

std::string id_string(const nlohmann::json& v, const char* key, const Ctx& c) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  throw c.error("id must be a string or an integer", key);
}

std::string text_field(const nlohmann::json& v, const char* key, const Ctx& c) {
  if (!v.is_string()) throw c.error("must be a string", key);
  return v.get<std::string>();
}

int64_t timestamp_ms(const nlohmann::json& v, const Ctx& c) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_float()) return static_cast<int64_t>(std::llround(v.get<double>()));
  if (v.is_string()) {
    if (auto us = util::parse_datetime(v.get<std::string>())) return *us / 1000;
  }
  throw c.error("timestamp must be epoch milliseconds or \"YYYY-MM-DD HH:MM:SS\"", "timestamp");
}

int int_field(const nlohmann::json& v, const char* key, const Ctx& c) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) throw c.error("must be an integer", key);
  return v.get<int>();
}

std::vector<std::string> id_list(const nlohmann::json& v, const char* key, const Ctx& c) {
  if (!v.is_array()) throw c.error("must be a list", key);
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(id_string(e, key, c));
  return out;
}

std::vector<text::ChatMessage> messages(const nlohmann::json& v, const char* key, const Ctx& c) {
  if (!v.is_array()) throw c.error("must be a list of messages", key);
  std::vector<text::ChatMessage> out;
  for (const auto& m : v) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
        !m["content"].is_string()) {
      throw c.error("each message needs string 'role' and 'content'", key);
    }
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

nlohmann::json parse_object(std::string_view line, const Ctx& c) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    throw c.error(std::string("not JSON: ") + e.what(), "");
  }
  if (!j.is_object()) throw c.error("line is not a JSON object", "");
  return j;
}

template <typename Parse>
auto read_lines(const std::filesystem::path& path, Parse parse) {
  util::LineReader in(path);
  std::string_view line;
  std::vector<decltype(parse(line, std::string(), int64_t{0}))> out;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    out.push_back(parse(line, path.string(), in.line_number()));
  }
  return out;
}

}  // namespace

PreferenceRecord parse_preference_line(std::string_view line, const std::string& file, int64_t line_no) {
  Ctx c{file, line_no};
  nlohmann::json j = parse_object(line, c);
  PreferenceRecord r;
  r.dataset = text_field(need(j, "dataset", c), "dataset", c);
  r.user_id = id_string(need(j, "user_id", c), "user_id", c);
  r.item_id = id_string(need(j, "item_id", c), "item_id", c);
  r.timestamp_ms = timestamp_ms(need(j, "timestamp", c), c);
  r.messages_chosen = messages(need(j, "messages_chosen", c), "messages_chosen", c);
  r.messages_rejected = messages(need(j, "messages_rejected", c), "messages_rejected", c);
  if (j.contains("impression_list")) r.impression_list = id_list(j["impression_list"], "impression_list", c);
  if (j.contains("item_pos")) r.item_pos = int_field(j["item_pos"], "item_pos", c);
  return r;
}

std::vector<PreferenceRecord> read_preference_file(const std::filesystem::path& path) {
  return read_lines(path, [](std::string_view l, const std::string& f, int64_t n) {
    return parse_preference_line(l, f, n);
  });
}

}  // namespace um::scene
