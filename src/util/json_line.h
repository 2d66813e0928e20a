#pragma once
// Parsing one JSON line of a JSONL file with simdjson, reusing buffers across lines (the scene
// records of scene/scene_record.h, the reference's probs and decisions files of distil/).
//
//   util::JsonLineParser parser;  // one per thread
//   scene::parse_scene(parser, line, record, /*want_text=*/true, {.file = path, .line = n});
//
// Record parsers reach the simdjson document through util/json_line_access.h, which only their
// .cpp files include. A parser is not thread-safe; use one per thread.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace um::util {

// Reusable parsing state (simdjson parser + padded copy of the line).
class JsonLineParser {
 public:
  JsonLineParser();
  ~JsonLineParser();
  JsonLineParser(const JsonLineParser&) = delete;
  JsonLineParser& operator=(const JsonLineParser&) = delete;
  struct Impl;  // util/json_line_access.h
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A JSON line to parse. Lines kept in a buffer with kJsonPadding spare bytes after the text
// (see pad_line) are parsed in place; others are copied into the parser's padded buffer first.
inline constexpr size_t kJsonPadding = 64;
struct JsonLine {
  std::string_view text;
  bool padded = false;
  JsonLine(std::string_view s) : text(s) {}    // NOLINT(google-explicit-constructor)
  JsonLine(const std::string& s) : text(s) {}  // NOLINT(google-explicit-constructor)
  JsonLine(const char* s) : text(s) {}         // NOLINT(google-explicit-constructor)
  // `buf` must come from pad_line.
  static JsonLine in_padded(const std::string& buf) {
    JsonLine l(std::string_view(buf.data(), buf.size() - kJsonPadding));
    l.padded = true;
    return l;
  }
};
// buf = line followed by kJsonPadding spaces.
void pad_line(std::string& buf, std::string_view line);

}  // namespace um::util
