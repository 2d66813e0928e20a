#include "util/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "util/utf8.h"

namespace um::util {

void JsonWriter::sep() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void JsonWriter::begin_object() {
  sep();
  out_.push_back('{');
  first_.push_back(true);
}
void JsonWriter::end_object() {
  out_.push_back('}');
  first_.pop_back();
}
void JsonWriter::begin_array() {
  sep();
  out_.push_back('[');
  first_.push_back(true);
}
void JsonWriter::end_array() {
  out_.push_back(']');
  first_.pop_back();
}
void JsonWriter::key(std::string_view k) {
  sep();
  append_json_string(out_, k, ascii_);
  out_.push_back(':');
  after_key_ = true;
}
void JsonWriter::value(std::string_view s) {
  sep();
  append_json_string(out_, s, ascii_);
}
void JsonWriter::value(int64_t v) {
  sep();
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}
void JsonWriter::value(uint64_t v) {
  sep();
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
}
void JsonWriter::value(double v) {
  sep();
  if (!std::isfinite(v)) {
    out_ += "null";
    return;
  }
  out_ += python_float_repr(v);
}
void JsonWriter::value(bool v) {
  sep();
  out_ += v ? "true" : "false";
}
void JsonWriter::null() {
  sep();
  out_ += "null";
}
void JsonWriter::raw(std::string_view json) {
  sep();
  out_.append(json);
}

void append_json_string(std::string& out, std::string_view s, bool ascii) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Runs of printable ASCII other than '"' and '\\' are copied in one append (the common case).
    size_t run = i;
    while (run < s.size()) {
      unsigned char r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = decode_utf8(s, i, cp);
    if (len == 0) {  // invalid byte: U+FFFD
      cp = 0xFFFD;
      len = 1;
      if (!ascii) {
        out += "\xEF\xBF\xBD";
        i += len;
        continue;
      }
    } else if (!ascii) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    auto put16 = [&](uint32_t u) {
      out += "\\u";
      for (int sh = 12; sh >= 0; sh -= 4) out.push_back(hex[(u >> sh) & 15]);
    };
    if (cp >= 0x10000) {
      uint32_t v = cp - 0x10000;
      put16(0xD800 + (v >> 10));
      put16(0xDC00 + (v & 0x3FF));
    } else {
      put16(cp);
    }
    i += len;
  }
  out.push_back('"');
}

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Integral values below 2^53 print as "<int>.0" (ratings, counts): skip the digit layout.
  if (std::fabs(v) < 9007199254740992.0 && v == std::trunc(v) && std::fabs(v) < 1e16)
    return std::to_string(static_cast<int64_t>(v)) + ".0";
  // Shortest round-trip digits in scientific form, then laid out the way Python's repr does:
  // positional when -4 <= exponent < 16, else d.ddde+XX.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits.push_back(c);
  std::string out = neg ? "-" : "";
  if (exp >= -5 + 1 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<int>(digits.size()) <= exp + 1) {
      out += digits;
      out.append(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp + 1));
      out += ".";
      out += digits.substr(static_cast<size_t>(exp + 1));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += ".";
    out += digits.substr(1);
  }
  char eb[16];
  std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += eb;
  return out;
}

}  // namespace um::util
