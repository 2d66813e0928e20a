#pragma once
// Streaming JSON builder for hot output paths (millions of small records), appending to a string.
// Building with nlohmann::json allocates a tree per record; this writes bytes directly. Parsing is
// done with simdjson / nlohmann, never by hand.
//
//   util::JsonWriter w;
//   w.begin_object(); w.key("user_id"); w.value("42"); w.key("rating"); w.value(4.0); w.end_object();
//   out.write(w.str()); w.clear();
//
// Doubles are written in the shortest round-trip form, with ".0" for integral values (4.0), as
// Python's json does. Non-finite doubles are written as null. With ascii=true every non-ASCII code
// point is escaped as \uXXXX (UTF-16 surrogate pairs above the BMP), like Python's ensure_ascii.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace um::util {

class JsonWriter {
 public:
  explicit JsonWriter(bool ascii = false) : ascii_(ascii) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);
  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(int64_t v);
  void value(int v) { value(static_cast<int64_t>(v)); }
  void value(uint64_t v);
  void value(double v);
  void value(bool v);
  void null();
  // Inserts already-serialised JSON as a value.
  void raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }
  void clear() {
    out_.clear();
    first_.clear();
  }
  void newline() { out_.push_back('\n'); }

 private:
  void sep();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
  bool ascii_;
};

// Appends `s` as a quoted JSON string, escaped as Python's json.dumps does (with ensure_ascii =
// `ascii`: \uXXXX for every non-ASCII character and DEL, surrogate pairs above U+FFFF; without it,
// UTF-8 as is and only '"', '\\' and control bytes escaped). Invalid UTF-8 bytes are written as U+FFFD.
void append_json_string(std::string& out, std::string_view s, bool ascii);
// Shortest round-trip decimal form of a double, Python repr style ("4.0", "0.1", "1e-05", "1e+16",
// "inf", "nan").
std::string python_float_repr(double v);
// Appends python_float_repr(v) to `out` (no temporary string).
void append_python_float(std::string& out, double v);

}  // namespace um::util
