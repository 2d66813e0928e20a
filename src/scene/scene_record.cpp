#include "scene/scene_record.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/json_writer.h"
#include "util/line_reader.h"
#include "util/time.h"

namespace um::scene {

void append_scene_json(std::string& out, const SceneRecord& r, bool with_impressions) {
  util::JsonWriter w(/*ascii=*/true);
  w.begin_object();
  w.key("text");
  w.begin_object();
  w.key("profile");
  w.value(r.text.profile);
  w.key("action_list");
  w.begin_array();
  for (const auto& a : r.text.action_list) w.value(a);
  w.end_array();
  w.key("history");
  w.value(r.text.history);
  w.end_object();
  w.key("user_id");
  w.value(r.user_id);
  w.key("item_id");
  w.value(r.item_id);
  w.key("timestamp");
  w.value(r.timestamp_ms);
  w.key("item_pos");
  w.value(r.item_pos);
  w.key("choice_cnt");
  w.value(r.choice_cnt);
  w.key("dataset");
  w.value(r.dataset);
  if (with_impressions) {
    w.key("impression_list");
    w.begin_array();
    for (const auto& id : r.impression_list) w.value(id);
    w.end_array();
  }
  w.end_object();
  out += w.str();
  out.push_back('\n');
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

SceneRecord parse_scene_line(std::string_view line, const std::string& file, int64_t line_no) {
  Ctx c{file, line_no};
  nlohmann::json j = parse_object(line, c);
  SceneRecord r;
  const auto& t = need(j, "text", c);
  if (!t.is_object()) throw c.error("must be an object", "text");
  r.text.profile = text_field(need(t, "profile", c), "text.profile", c);
  r.text.history = text_field(need(t, "history", c), "text.history", c);
  const auto& al = need(t, "action_list", c);
  if (!al.is_array()) throw c.error("must be a list of strings", "text.action_list");
  for (const auto& a : al) r.text.action_list.push_back(text_field(a, "text.action_list", c));
  r.user_id = id_string(need(j, "user_id", c), "user_id", c);
  r.item_id = id_string(need(j, "item_id", c), "item_id", c);
  r.timestamp_ms = timestamp_ms(need(j, "timestamp", c), c);
  r.item_pos = int_field(need(j, "item_pos", c), "item_pos", c);
  r.choice_cnt = int_field(need(j, "choice_cnt", c), "choice_cnt", c);
  r.dataset = text_field(need(j, "dataset", c), "dataset", c);
  if (j.contains("impression_list")) r.impression_list = id_list(j["impression_list"], "impression_list", c);
  if (r.choice_cnt != static_cast<int>(r.text.action_list.size())) {
    throw c.error("choice_cnt " + std::to_string(r.choice_cnt) + " differs from the " +
                      std::to_string(r.text.action_list.size()) + " entries of text.action_list",
                  "choice_cnt");
  }
  if (r.item_pos < 0 || r.item_pos >= r.choice_cnt) throw c.error("item_pos out of range", "item_pos");
  if (!r.impression_list.empty() && r.impression_list.size() != r.text.action_list.size()) {
    throw c.error("impression_list length differs from text.action_list", "impression_list");
  }
  return r;
}

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

std::vector<SceneRecord> read_scene_file(const std::filesystem::path& path) {
  return read_lines(
      path, [](std::string_view l, const std::string& f, int64_t n) { return parse_scene_line(l, f, n); });
}

std::vector<PreferenceRecord> read_preference_file(const std::filesystem::path& path) {
  return read_lines(path, [](std::string_view l, const std::string& f, int64_t n) {
    return parse_preference_line(l, f, n);
  });
}

}  // namespace um::scene
