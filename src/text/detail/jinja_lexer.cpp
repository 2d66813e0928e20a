#include "text/detail/jinja_lexer.h"

#include <algorithm>
#include <cstring>

#include "text/detail/jinja_error.h"
#include "text/detail/jinja_value.h"
#include "text/detail/py_escape.h"
#include "util/utf8.h"

namespace um::text::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// \s in Python's re (Unicode): used for "-" stripping and lstrip_blocks.
size_t rstrip_len(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t j = end - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) --j;
    uint32_t cp = 0;
    if (util::decode_utf8(s, j, cp) == 0 || !py_isspace(cp)) break;
    end = j;
  }
  return end;
}

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = util::decode_utf8(s, i, cp);
    if (n == 0 || !py_isspace(cp)) break;
    i += n;
  }
  return i;
}

class Lexer {
 public:
  Lexer(std::string src, const std::string& name, const LexOptions& opts)
      : src_(std::move(src)), name_(name), opts_(opts) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t p = find_tag(pos);
      if (p == std::string::npos) {
        emit_text(pos, src_.size());
        break;
      }
      char kind = src_[p + 1];
      char sign = p + 2 < src_.size() ? src_[p + 2] : '\0';
      size_t text_end = p;
      if (sign == '-') {
        text_end = pos + rstrip_len(std::string_view(src_).substr(pos, p - pos));
      } else if (sign != '+' && opts_.lstrip_blocks && kind != '{') {
        std::string_view text = std::string_view(src_).substr(pos, p - pos);
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() && rstrip_len(text.substr(l_pos)) == 0) {
          text_end = pos + l_pos;
        }
      }
      emit_text(pos, text_end);
      size_t body = p + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(p, body, line_starting);
      } else if (kind == '%' && is_raw(body)) {
        pos = lex_raw(p, body, line_starting);
      } else {
        pos = lex_tag(p, body, kind == '%', line_starting);
      }
    }
    tokens_.push_back(make(TokKind::Eof, src_.size()));
    return std::move(tokens_);
  }

 private:
  Token make(TokKind kind, size_t offset, std::string value = {}) {
    Token t;
    t.kind = kind;
    t.value = std::move(value);
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line_idx = static_cast<size_t>(it - line_starts_.begin()) - 1;
    t.line = static_cast<int>(line_idx) + 1;
    t.col = static_cast<int>(offset - line_starts_[line_idx]) + 1;
    return t;
  }

  [[noreturn]] void fail(size_t offset, const std::string& msg) {
    Token t = make(TokKind::Eof, offset);
    template_error(name_, t.line, t.col, msg);
  }

  size_t find_tag(size_t from) const {
    size_t p = from;
    while ((p = src_.find('{', p)) != std::string::npos) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) {
        return p;
      }
      ++p;
    }
    return std::string::npos;
  }

  void emit_text(size_t begin, size_t end) {
    if (end > begin) tokens_.push_back(make(TokKind::Text, begin, src_.substr(begin, end - begin)));
  }

  // After a block or comment end delimiter: "-" strips all following whitespace, trim_blocks one "\n".
  size_t after_block_end(size_t after, char sign, bool& line_starting) {
    if (sign == '-') {
      size_t q = skip_ws(src_, after);
      line_starting = q > after && src_[q - 1] == '\n';
      return q;
    }
    if (sign != '+' && opts_.trim_blocks && after < src_.size() && src_[after] == '\n') {
      line_starting = true;
      return after + 1;
    }
    line_starting = false;
    return after;
  }

  size_t lex_comment(size_t start, size_t body, bool& line_starting) {
    size_t end = src_.find("#}", body);
    if (end == std::string::npos) fail(start, "Missing end of comment tag");
    char sign = end > body && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : '\0';
    return after_block_end(end + 2, sign, line_starting);
  }

  bool is_raw(size_t body) const {
    size_t i = body;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (src_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    while (i < src_.size() && is_space(src_[i])) ++i;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    return src_.compare(i, 2, "%}") == 0;
  }

  size_t lex_raw(size_t start, size_t body, bool& line_starting) {
    size_t close = src_.find("%}", body);
    char sign = src_[close - 1] == '-' || src_[close - 1] == '+' ? src_[close - 1] : '\0';
    size_t content = after_block_end(close + 2, sign, line_starting);
    // Find "{%[-+]? *endraw *[-+]?%}".
    size_t p = content;
    while ((p = src_.find("{%", p)) != std::string::npos) {
      size_t i = p + 2;
      char lsign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i] : '\0';
      if (lsign) ++i;
      while (i < src_.size() && is_space(src_[i])) ++i;
      if (src_.compare(i, 6, "endraw") == 0) {
        i += 6;
        while (i < src_.size() && is_space(src_[i])) ++i;
        char rsign = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i] : '\0';
        if (rsign) ++i;
        if (src_.compare(i, 2, "%}") == 0) {
          size_t text_end = p;
          if (lsign == '-')
            text_end = content + rstrip_len(std::string_view(src_).substr(content, p - content));
          emit_text(content, text_end);
          return after_block_end(i + 2, rsign, line_starting);
        }
      }
      p += 2;
    }
    fail(start, "Missing end of raw directive");
  }

  size_t lex_tag(size_t start, size_t body, bool block, bool& line_starting) {
    tokens_.push_back(make(block ? TokKind::BlockBegin : TokKind::VarBegin, start));
    size_t i = body;
    int balance = 0;
    const char* close = block ? "%}" : "}}";
    while (true) {
      while (i < src_.size() && is_space(src_[i])) ++i;
      if (i >= src_.size())
        fail(start, block ? "unexpected end of template, expected '%}'"
                          : "unexpected end of template, expected '}}'");
      if (balance == 0) {
        char sign = '\0';
        size_t j = i;
        if (src_[j] == '-' || (block && src_[j] == '+')) {
          sign = src_[j];
          ++j;
        }
        if (src_.compare(j, 2, close) == 0) {
          tokens_.push_back(make(block ? TokKind::BlockEnd : TokKind::VarEnd, i));
          if (block) return after_block_end(j + 2, sign, line_starting);
          size_t after = j + 2;
          if (sign == '-') after = skip_ws(src_, after);
          line_starting = after > j + 2 && src_[after - 1] == '\n';
          return after;
        }
      }
      i = lex_token(i, balance);
    }
  }

  size_t lex_token(size_t i, int& balance) {
    char c = src_[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
      tokens_.push_back(make(TokKind::Name, i, src_.substr(i, j - i)));
      return j;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return lex_number(i);
    if (c == '\'' || c == '"') return lex_string(i);
    static const char* const two[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : two) {
      if (src_.compare(i, 2, op) == 0) {
        tokens_.push_back(make(TokKind::Op, i, op));
        return i + 2;
      }
    }
    if (std::strchr("+-/*%~[](){}<>=.:|,;", c) != nullptr) {
      if (c == '(' || c == '[' || c == '{') ++balance;
      if (c == ')' || c == ']' || c == '}') {
        if (balance == 0) fail(i, std::string("unexpected '") + c + "'");
        --balance;
      }
      tokens_.push_back(make(TokKind::Op, i, std::string(1, c)));
      return i + 1;
    }
    fail(i, std::string("unexpected char '") + c + "'");
  }

  size_t lex_digits(size_t j) const {
    while (j < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[j])) ||
                               (src_[j] == '_' && j + 1 < src_.size() &&
                                std::isdigit(static_cast<unsigned char>(src_[j + 1]))))) {
      ++j;
    }
    return j;
  }

  size_t lex_number(size_t i) {
    size_t j = lex_digits(i);
    bool is_float = false;
    if (j + 1 < src_.size() && src_[j] == '.' && std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
      is_float = true;
      j = lex_digits(j + 1);
    }
    if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        is_float = true;
        j = lex_digits(k);
      }
    }
    std::string text;
    for (size_t k = i; k < j; ++k) {
      if (src_[k] != '_') text.push_back(src_[k]);
    }
    Token t = make(is_float ? TokKind::Float : TokKind::Int, i, text);
    try {
      if (is_float) {
        t.fval = std::stod(text);
      } else {
        t.ival = std::stoll(text);
      }
    } catch (const std::exception&) {
      fail(i, "number out of range: " + text);
    }
    tokens_.push_back(std::move(t));
    return j;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Python "unicode-escape" decoding of a string literal's body.
  size_t lex_string(size_t i) {
    char quote = src_[i];
    std::string out;
    size_t j = i + 1;
    while (true) {
      if (j >= src_.size()) fail(i, "unexpected end of string");
      char c = src_[j];
      if (c == quote) break;
      if (c != '\\') {
        out.push_back(c);
        ++j;
        continue;
      }
      if (j + 1 >= src_.size()) fail(i, "unexpected end of string");
      char e = src_[j + 1];
      j += 2;
      if (append_simple_escape(e, out)) continue;
      switch (e) {
        case 'x':
        case 'u':
        case 'U': {
          int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < digits; ++k, ++j) {
            int h = j < src_.size() ? hex_value(src_[j]) : -1;
            if (h < 0) fail(i, "truncated \\" + std::string(1, e) + " escape in string");
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          util::append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++k, ++j) {
              cp = cp * 8 + static_cast<uint32_t>(src_[j] - '0');
            }
            util::append_utf8(out, cp);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back(make(TokKind::String, i, std::move(out)));
    return j + 1;
  }

  std::string src_;
  std::string name_;
  LexOptions opts_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

std::string normalize_newlines(std::string_view s, bool keep_trailing) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!keep_trailing && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> lex_template(std::string_view source, const std::string& name, const LexOptions& opts) {
  Lexer lexer(normalize_newlines(source, opts.keep_trailing_newline), name, opts);
  return lexer.run();
}

}  // namespace um::text::detail
