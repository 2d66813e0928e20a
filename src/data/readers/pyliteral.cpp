#include "data/readers/pyliteral.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "util/json_writer.h"
#include "util/utf8.h"

namespace um::data {
namespace {

constexpr int kMaxDepth = 256;

class Converter {
 public:
  Converter(std::string_view s, std::string& out) : s_(s), out_(out) {}

  std::optional<std::string> run() {
    out_.clear();
    skip_ws();
    if (!value(0, false)) return err_;
    skip_ws();
    if (i_ != s_.size()) return fail("unexpected text after the literal");
    return std::nullopt;
  }

 private:
  bool fail_b(const std::string& msg) {
    if (!err_) err_ = msg + " at byte " + std::to_string(i_);
    return false;
  }
  std::string fail(const std::string& msg) {
    fail_b(msg);
    return *err_;
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  bool starts_string() const {
    size_t j = i_;
    // Up to two prefix letters (u, b, r, ur, br, rb).
    for (int k = 0; k < 2 && j < s_.size(); ++k) {
      char c = static_cast<char>(s_[j] | 0x20);
      if (c == 'u' || c == 'b' || c == 'r')
        ++j;
      else
        break;
    }
    return j < s_.size() && (s_[j] == '\'' || s_[j] == '"');
  }

  bool ident(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    size_t e = i_ + word.size();
    if (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) return false;
    i_ = e;
    return true;
  }

  // `as_key`: JSON object keys must be strings, so scalars are quoted.
  bool value(int depth, bool as_key) {
    if (depth > kMaxDepth) return fail_b("nesting too deep");
    if (i_ >= s_.size()) return fail_b("unexpected end of input");
    char c = s_[i_];
    if (starts_string()) return string_literal();
    if (as_key && (c == '{' || c == '[' || c == '(')) return fail_b("unhashable dict key");
    if (c == '{') return container(depth, '{', '}');
    if (c == '[') return container(depth, '[', ']');
    if (c == '(') return container(depth, '(', ')');
    std::string_view word;
    if (ident("True") || ident("true"))
      word = "true";
    else if (ident("False") || ident("false"))
      word = "false";
    else if (ident("None") || ident("null"))
      word = "null";
    if (!word.empty()) {
      if (as_key) {
        out_ += '"';
        out_ += word == "true" ? "True" : word == "false" ? "False" : "None";
        out_ += '"';
      } else {
        out_ += word;
      }
      return true;
    }
    if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) return number(as_key);
    return fail_b(std::string("unexpected character '") + c + "'");
  }

  bool container(int depth, char open, char close) {
    bool dict = open == '{';
    out_ += dict ? '{' : '[';
    ++i_;
    bool first = true;
    for (;;) {
      skip_ws();
      if (i_ >= s_.size()) return fail_b("unterminated container");
      if (s_[i_] == close) {
        ++i_;
        break;
      }
      if (!first) {
        if (s_[i_] != ',') return fail_b("expected ','");
        ++i_;
        skip_ws();
        if (i_ < s_.size() && s_[i_] == close) {  // trailing comma
          ++i_;
          break;
        }
        out_ += ',';
      }
      first = false;
      if (dict) {
        if (!value(depth + 1, true)) return false;
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != ':') return fail_b("expected ':'");
        ++i_;
        out_ += ':';
        skip_ws();
      }
      if (!value(depth + 1, false)) return false;
    }
    out_ += dict ? '}' : ']';
    return true;
  }

  bool number(bool as_key) {
    size_t start = i_;
    if (s_[i_] == '+' || s_[i_] == '-') ++i_;
    size_t digits_start = i_;
    bool is_float = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c >= '0' && c <= '9') {
        ++i_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_float = true;
        ++i_;
        if ((c == 'e' || c == 'E') && i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      } else if (c == '_') {
        ++i_;
      } else {
        break;
      }
    }
    std::string_view body = s_.substr(digits_start, i_ - digits_start);
    if (i_ < s_.size() && (s_[i_] == 'L' || s_[i_] == 'l')) ++i_;  // Python 2 long
    if (body.empty() || body == ".") return fail_b("malformed number");
    if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_]))))
      return fail_b("malformed number");
    // Normalise to JSON: no '+', no '_', no leading '.', no trailing '.', no leading zeros.
    std::string n;
    if (s_[start] == '-') n += '-';
    for (char c : body)
      if (c != '_') n += c;
    size_t b = n[0] == '-' ? 1 : 0;
    if (n[b] == '.') n.insert(b, "0");
    for (size_t k = 0; k + 1 < n.size(); ++k)
      if (n[k] == '.' && !(n[k + 1] >= '0' && n[k + 1] <= '9')) {
        n.insert(k + 1, "0");
        break;
      }
    if (n.back() == '.') n += '0';
    if (!is_float) {
      size_t z = b;
      while (z + 1 < n.size() && n[z] == '0') ++z;
      n.erase(b, z - b);
    } else {
      size_t z = b;  // leading zeros of the integer part
      while (z + 1 < n.size() && n[z] == '0' && n[z + 1] >= '0' && n[z + 1] <= '9') ++z;
      n.erase(b, z - b);
    }
    size_t e = n.find_first_of("eE");
    if (e != std::string::npos &&
        (e + 1 == n.size() || ((n[e + 1] == '+' || n[e + 1] == '-') && e + 2 == n.size())))
      return fail_b("malformed number");
    // One '.', one exponent, no '.' in the exponent ("1e308.0" is not a literal; found by tests/fuzz).
    if (std::count(n.begin(), n.end(), '.') > 1 ||
        (e != std::string::npos && n.find_first_of(".eE", e + 1) != std::string::npos))
      return fail_b("malformed number");
    // 1e999 would be inf in Python, which is no JSON number (found by tests/fuzz).
    if (is_float && !std::isfinite(std::strtod(n.c_str(), nullptr))) return fail_b("number out of range");
    if (as_key) {
      out_ += '"';
      out_ += n;
      out_ += '"';
    } else {
      out_ += n;
    }
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  bool read_hex(size_t n, uint32_t& v) {
    v = 0;
    if (i_ + n > s_.size()) return fail_b("truncated escape");
    for (size_t k = 0; k < n; ++k) {
      int h = hex(s_[i_ + k]);
      if (h < 0) return fail_b("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += n;
    return true;
  }

  void put_cp(std::string& text, uint32_t cp) {
    // Join a high surrogate kept from the previous escape with this low one.
    if (pending_high_) {
      uint32_t hi = pending_high_;
      pending_high_ = 0;
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        util::append_utf8(text, 0x10000 + ((hi - 0xD800) << 10) + (cp - 0xDC00));
        return;
      }
      util::append_utf8(text, 0xFFFD);
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      pending_high_ = cp;
      return;
    }
    if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
    util::append_utf8(text, cp);
  }
  void flush_pending(std::string& text) {
    if (pending_high_) {
      pending_high_ = 0;
      util::append_utf8(text, 0xFFFD);
    }
  }

  // One or more adjacent string literals → one JSON string.
  bool string_literal() {
    std::string text;
    do {
      bool raw = false;
      while (s_[i_] != '\'' && s_[i_] != '"') {
        if ((s_[i_] | 0x20) == 'r') raw = true;
        ++i_;
      }
      char q = s_[i_];
      bool triple = s_.substr(i_, 3) == std::string_view(std::string(3, q));
      i_ += triple ? 3 : 1;
      for (;;) {
        if (i_ >= s_.size()) return fail_b("unterminated string");
        char c = s_[i_];
        if (c == q && (!triple || s_.substr(i_, 3) == std::string_view(std::string(3, q)))) {
          i_ += triple ? 3 : 1;
          break;
        }
        if (c == '\n' && !triple) return fail_b("newline inside a string");
        if (c != '\\') {
          flush_pending(text);
          text += c;
          ++i_;
          continue;
        }
        if (i_ + 1 >= s_.size()) return fail_b("unterminated string");
        char e = s_[i_ + 1];
        if (raw) {  // raw strings keep the backslash; it still protects a quote
          flush_pending(text);
          text += c;
          text += e;
          i_ += 2;
          continue;
        }
        i_ += 2;
        uint32_t v = 0;
        switch (e) {
          case '\n':
            break;
          case '\\':
            flush_pending(text);
            text += '\\';
            break;
          case '\'':
            flush_pending(text);
            text += '\'';
            break;
          case '"':
            flush_pending(text);
            text += '"';
            break;
          case 'n':
            flush_pending(text);
            text += '\n';
            break;
          case 'r':
            flush_pending(text);
            text += '\r';
            break;
          case 't':
            flush_pending(text);
            text += '\t';
            break;
          case 'b':
            flush_pending(text);
            text += '\b';
            break;
          case 'f':
            flush_pending(text);
            text += '\f';
            break;
          case 'v':
            flush_pending(text);
            text += '\v';
            break;
          case 'a':
            flush_pending(text);
            text += '\a';
            break;
          case 'x':
            if (!read_hex(2, v)) return false;
            put_cp(text, v);
            break;
          case 'u':
            if (!read_hex(4, v)) return false;
            put_cp(text, v);
            break;
          case 'U':
            if (!read_hex(8, v)) return false;
            put_cp(text, v);
            break;
          case 'N':
            return fail_b("\\N{...} escapes are not supported");
          default:
            if (e >= '0' && e <= '7') {
              v = static_cast<uint32_t>(e - '0');
              for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k)
                v = v * 8 + static_cast<uint32_t>(s_[i_++] - '0');
              put_cp(text, v);
            } else {
              flush_pending(text);
              text += '\\';
              text += e;
            }
        }
      }
      flush_pending(text);
      size_t save = i_;
      skip_ws();
      if (i_ >= s_.size() || !starts_string()) {
        i_ = save;
        break;
      }
    } while (true);
    util::append_json_string(out_, text, false);
    return true;
  }

  std::string_view s_;
  std::string& out_;
  size_t i_ = 0;
  uint32_t pending_high_ = 0;
  std::optional<std::string> err_;
};

}  // namespace

std::optional<std::string> python_literal_to_json(std::string_view text, std::string& out) {
  return Converter(text, out).run();
}

}  // namespace um::data
