#include "util/json_writer.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  append_python_float(out_, v);
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

namespace {

// Length of the longest prefix of [p, p + n) made of printable ASCII other than '"' and '\\' (DEL,
// 0x7f, counts as not printable): the bytes append_json_string copies as they are without looking at
// them one by one.
size_t plain_ascii_prefix(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them with the control bytes.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
  }
  return i;
}

// Length of the longest prefix of [p, p + n) free of '"', '\\' and bytes below 0x20: the bytes of
// valid UTF-8 text that are copied as they are when it is not escaped to ASCII.
size_t unescaped_prefix(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i max_control = _mm_set1_epi8(0x1F);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, max_control), max_control);  // v <= 0x1F
    const __m128i special =
        _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c == '"' || c == '\\') break;
  }
  return i;
}

// The escape of an ASCII byte that is '"', '\\' or a control byte.
void append_escape(std::string& out, unsigned char c) {
  static const char* hex = "0123456789abcdef";
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
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s, bool ascii) {
  static const char* hex = "0123456789abcdef";
  // Long valid UTF-8 text kept as UTF-8 (prompts, rationales): multi-byte characters are copied
  // inside the vectorised runs; only '"', '\\' and control bytes stop them. (Validation is cheap
  // next to the copy; short strings take the general path below.)
  if (!ascii && s.size() >= 64 && simdjson::validate_utf8(s.data(), s.size())) {
    out.push_back('"');
    size_t i = 0;
    while (i < s.size()) {
      const size_t run = unescaped_prefix(s.data() + i, s.size() - i);
      out.append(s.data() + i, run);
      i += run;
      if (i == s.size()) break;
      append_escape(out, static_cast<unsigned char>(s[i++]));
    }
    out.push_back('"');
    return;
  }
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Runs of printable ASCII other than '"' and '\\' are copied in one append (the common case).
    const size_t run = i + plain_ascii_prefix(s.data() + i, s.size() - i);
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
          // Python's json.dumps escapes DEL only with ensure_ascii (its ASCII set is ' '..'~').
          if (c < 0x20 || (ascii && c == 0x7f)) {
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

void append_python_float(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "inf" : "-inf";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  char buf[64];
  // Integral values below 2^53 print as "<int>.0" (ratings, counts): skip the digit layout.
  if (std::fabs(v) < 9007199254740992.0 && v == std::trunc(v) && std::fabs(v) < 1e16) {
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    out.append(buf, r.ptr);
    out += ".0";
    return;
  }
  // Shortest round-trip digits in scientific form, then laid out the way Python's repr does:
  // positional when -4 <= exponent < 16, else d.ddde+XX.
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* p = buf;
  if (*p == '-') {
    out.push_back('-');
    ++p;
  }
  const char* e = std::find(p, static_cast<const char*>(r.ptr), 'e');
  char digits[32];
  size_t nd = 0;
  for (const char* q = p; q < e; ++q)
    if (*q != '.') digits[nd++] = *q;
  int exp = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), r.ptr, exp);
  const std::string_view d(digits, nd);
  if (exp >= -5 + 1 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += d;
    } else if (static_cast<int>(nd) <= exp + 1) {
      out += d;
      out.append(static_cast<size_t>(exp + 1 - static_cast<int>(nd)), '0');
      out += ".0";
    } else {
      out += d.substr(0, static_cast<size_t>(exp + 1));
      out += '.';
      out += d.substr(static_cast<size_t>(exp + 1));
    }
    return;
  }
  out += d.substr(0, 1);
  if (nd > 1) {
    out += '.';
    out += d.substr(1);
  }
  const int mag = exp < 0 ? -exp : exp;
  out += 'e';
  out += exp < 0 ? '-' : '+';
  if (mag < 10) out += '0';
  const auto er = std::to_chars(buf, buf + sizeof buf, mag);
  out.append(buf, er.ptr);
}

std::string python_float_repr(double v) {
  std::string out;
  append_python_float(out, v);
  return out;
}

}  // namespace um::util
