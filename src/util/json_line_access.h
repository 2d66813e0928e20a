#pragma once
// The simdjson side of util/json_line.h, for the .cpp files that parse records out of a JSON line:
// the parser's state and typed field readers whose errors are util::Error naming the file, line and
// field. Not included by any public header (simdjson stays out of the includers' compile).
#include <simdjson.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"
#include "util/json_line.h"

namespace um::util {

namespace od = simdjson::ondemand;

struct JsonLineParser::Impl {
  od::parser parser;
  std::string buf;
  const char* base = nullptr;  // first byte of the text being iterated (the line or `buf`)
  // Copies the line into a buffer with simdjson's padding and starts iterating it.
  od::document iterate(const JsonLine& line, const Location& where) {
    static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);
    simdjson::padded_string_view view;
    if (line.padded) {
      view =
          simdjson::padded_string_view(line.text.data(), line.text.size(), line.text.size() + kJsonPadding);
    } else {
      buf.assign(line.text);
      buf.append(kJsonPadding, ' ');
      view = simdjson::padded_string_view(buf.data(), line.text.size(), buf.size());
    }
    base = view.data();
    od::document doc;
    auto err = parser.iterate(view).get(doc);
    if (err) throw Error(std::string("invalid JSON: ") + simdjson::error_message(err), where);
    return doc;
  }
};

namespace json_line {

inline Location at(const Location& where, std::string_view field) {
  Location l = where;
  l.field = std::string(field);
  return l;
}

[[noreturn]] inline void fail(const Location& where, std::string_view field, const std::string& msg) {
  throw Error(msg, at(where, field));
}

inline void check(simdjson::error_code err, const Location& where, std::string_view field) {
  if (err) fail(where, field, std::string("invalid JSON value: ") + simdjson::error_message(err));
}

inline std::string_view trim_token(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A string value, or a number's literal text (ids).
inline void get_id(od::value v, std::string& out, const Location& where, std::string_view field) {
  od::json_type t{};
  check(v.type().get(t), where, field);
  if (t == od::json_type::string) {
    std::string_view s;
    check(v.get_string().get(s), where, field);
    out.assign(s);
  } else if (t == od::json_type::number) {
    out.assign(trim_token(v.raw_json_token()));
  } else {
    fail(where, field, "expected a string or number id");
  }
}

inline void get_string(od::value v, std::string& out, const Location& where, std::string_view field) {
  std::string_view s;
  check(v.get_string().get(s), where, field);
  out.assign(s);
}

inline int64_t get_int(od::value v, const Location& where, std::string_view field) {
  od::json_type t{};
  check(v.type().get(t), where, field);
  if (t != od::json_type::number) fail(where, field, "expected an integer");
  int64_t i;
  if (!v.get_int64().get(i)) return i;
  // Integral floats (pandas may write 1.0e12 or 3.0) are accepted; others are errors.
  double d = 0;
  check(v.get_double().get(d), where, field);
  if (!(std::floor(d) == d) || std::fabs(d) > 9.0e15) fail(where, field, "expected an integer");
  return static_cast<int64_t>(d);
}

inline void get_string_list(od::value v, std::vector<std::string>& out, const Location& where,
                            std::string_view field) {
  od::array arr;
  check(v.get_array().get(arr), where, field);
  out.clear();
  for (auto el : arr) {
    std::string_view s;
    check(el.get_string().get(s), where, field);
    out.emplace_back(s);
  }
}

}  // namespace json_line
}  // namespace um::util
