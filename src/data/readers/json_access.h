#pragma once
// Small helpers the JSON-based readers share: typed field access on simdjson DOM objects, with
// absent/null/wrong-typed fields reported as "missing" (nullopt), and a per-line parse that
// reports bad lines through the ReadContext (fail, or count with --skip-bad).
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "data/reader.h"
#include "data/readers/common.h"
#include "data/readers/pyliteral.h"
#include "util/line_reader.h"

namespace um::data::readers {

inline std::optional<std::string_view> get_str(simdjson::dom::object o, std::string_view key) {
  std::string_view v;
  if (o[key].get_string().get(v)) return std::nullopt;
  return v;
}

// Numbers, or strings holding a number ("3" in Amazon's vote field).
inline std::optional<double> get_num(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  if (o[key].get(e)) return std::nullopt;
  double d;
  if (!e.get_double().get(d)) return d;
  int64_t i;
  if (!e.get_int64().get(i)) return static_cast<double>(i);
  uint64_t u;
  if (!e.get_uint64().get(u)) return static_cast<double>(u);
  return std::nullopt;
}

inline std::optional<simdjson::dom::element> get_elem(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  if (o[key].get(e) || e.is_null()) return std::nullopt;
  return e;
}

// Id that may be a JSON string or an integer.
inline std::optional<std::string> get_id(simdjson::dom::object o, std::string_view key) {
  simdjson::dom::element e;
  if (o[key].get(e)) return std::nullopt;
  std::string_view s;
  if (!e.get_string().get(s)) return s.empty() ? std::nullopt : std::optional<std::string>(std::string(s));
  int64_t i;
  if (!e.get_int64().get(i)) return std::to_string(i);
  uint64_t u;
  if (!e.get_uint64().get(u)) return std::to_string(u);
  double d;
  if (!e.get_double().get(d) && d == static_cast<double>(static_cast<int64_t>(d)))
    return std::to_string(static_cast<int64_t>(d));
  return std::nullopt;
}

// Calls fn(object, line_number) for every non-blank line of a JSON Lines file (gzip-transparent).
// When `python_literals`, lines are Python literals converted to JSON first (Steam). A line that
// is not a JSON object is reported as "invalid JSON line" / "invalid Python literal line".
template <typename Fn>
void for_each_json_line(const std::filesystem::path& path, const ReadContext& ctx, bool python_literals,
                        Fn&& fn) {
  util::LineReader in(path);
  simdjson::dom::parser parser;
  std::string converted;
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    util::Location where{.file = in.path(), .line = in.line_number()};
    std::string_view text = line;
    if (python_literals) {
      if (auto err = python_literal_to_json(line, converted)) {
        ctx.bad->report(
            util::Error("not a Python literal: " + *err, where).with_reason("invalid Python literal line"));
        continue;
      }
      text = converted;
    }
    simdjson::dom::element doc;
    auto err = parser.parse(text.data(), text.size(), true).get(doc);
    simdjson::dom::object obj;
    if (err || doc.get_object().get(obj)) {
      ctx.bad->report(util::Error(std::string("invalid JSON object: ") +
                                      (err ? simdjson::error_message(err) : "not an object"),
                                  where)
                          .with_reason("invalid JSON line"));
      continue;
    }
    fn(obj, where);
  }
}

}  // namespace um::data::readers
