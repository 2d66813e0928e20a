#include "text/detail/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "text/detail/jinja_error.h"
#include "util/utf8.h"

namespace um::text::detail {

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Dict::find(std::string_view key) {
  for (auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

uint32_t value_depth(const Value& v) {
  if (v.is_list()) return v.list_ref().depth;
  if (v.is_dict()) return v.dict_ref().depth;
  if (v.is_namespace()) return v.ns_ref().attrs.depth + 1;
  return 0;
}

namespace {
uint32_t checked_depth(uint32_t d) {
  if (d > kMaxValueDepth) {
    throw RuntimeError("lists and dicts nest deeper than " + std::to_string(kMaxValueDepth) + " levels");
  }
  return d;
}
}  // namespace

Value Value::list(std::vector<Value> items, bool tuple) {
  uint32_t deepest = 0;
  for (const auto& x : items) deepest = std::max(deepest, value_depth(x));
  const uint32_t depth = checked_depth(deepest + 1);
  return Value(std::make_shared<List>(List{std::move(items), tuple, depth}));
}

void Dict::update_depth() {
  uint32_t deepest = 0;
  for (const auto& kv : items) deepest = std::max(deepest, value_depth(kv.second));
  depth = checked_depth(deepest + 1);
}

void Dict::set(std::string key, Value v) {
  depth = std::max(depth, checked_depth(value_depth(v) + 1));
  if (Value* slot = find(key)) {
    *slot = std::move(v);
  } else {
    items.emplace_back(std::move(key), std::move(v));
  }
}

double Value::to_double() const {
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  if (is_int()) return static_cast<double>(as_int());
  return as_float();
}

bool Value::truthy() const {
  struct V {
    bool operator()(const Undefined&) const { return false; }
    bool operator()(const None&) const { return false; }
    bool operator()(bool b) const { return b; }
    bool operator()(int64_t i) const { return i != 0; }
    bool operator()(double d) const { return d != 0.0; }
    bool operator()(const std::string& s) const { return !s.empty(); }
    bool operator()(const ListPtr& l) const { return !l->items.empty(); }
    bool operator()(const DictPtr& d) const { return !d->items.empty(); }
    bool operator()(const NamespacePtr&) const { return true; }
    bool operator()(const CallablePtr&) const { return true; }
    bool operator()(const MethodPtr&) const { return true; }
  };
  return std::visit(V{}, v_);
}

std::string Value::type_name() const {
  struct V {
    std::string operator()(const Undefined&) const { return "Undefined"; }
    std::string operator()(const None&) const { return "NoneType"; }
    std::string operator()(bool) const { return "bool"; }
    std::string operator()(int64_t) const { return "int"; }
    std::string operator()(double) const { return "float"; }
    std::string operator()(const std::string&) const { return "str"; }
    std::string operator()(const ListPtr& l) const { return l->tuple ? "tuple" : "list"; }
    std::string operator()(const DictPtr&) const { return "dict"; }
    std::string operator()(const NamespacePtr&) const { return "Namespace"; }
    std::string operator()(const CallablePtr&) const { return "function"; }
    std::string operator()(const MethodPtr&) const { return "builtin_function_or_method"; }
  };
  return std::visit(V{}, v_);
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]D[.DDD]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (size_t i = 0; i < epos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    // Python's repr uses fixed notation for -4 <= exp < 16.
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else {
      size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_len);
        out += '.';
        out += digits.substr(int_len);
      }
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += ebuf;
  }
  return out;
}

namespace {

void append_repr_string(std::string& out, const std::string& s) {
  check_value_bytes(out.size() + s.size());
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  for (unsigned char c : s) {
    switch (c) {
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
      default:
        if (c == static_cast<unsigned char>(quote)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += quote;
}

void append_repr(std::string& out, const Value& v) {
  if (v.is_string()) {
    append_repr_string(out, v.str());
  } else {
    append_str(out, v);
  }
}

}  // namespace

void append_str(std::string& out, const Value& v) {
  struct V {
    std::string& out;
    void operator()(const Undefined&) const {}
    void operator()(const None&) const { out += "None"; }
    void operator()(bool b) const { out += b ? "True" : "False"; }
    void operator()(int64_t i) const { out += std::to_string(i); }
    void operator()(double d) const { out += float_repr(d); }
    void operator()(const std::string& s) const {
      check_value_bytes(out.size() + s.size());
      out += s;
    }
    void operator()(const ListPtr& l) const {
      out += l->tuple ? '(' : '[';
      for (size_t i = 0; i < l->items.size(); ++i) {
        if (i) out += ", ";
        append_repr(out, l->items[i]);
        check_value_bytes(out.size());
      }
      if (l->tuple && l->items.size() == 1) out += ',';
      out += l->tuple ? ')' : ']';
    }
    void operator()(const DictPtr& d) const {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : d->items) {
        if (!first) out += ", ";
        first = false;
        append_repr_string(out, k);
        out += ": ";
        append_repr(out, val);
        check_value_bytes(out.size());
      }
      out += '}';
    }
    void operator()(const NamespacePtr&) const { out += "<Namespace>"; }
    void operator()(const CallablePtr& c) const { out += "<function " + c->name + ">"; }
    void operator()(const MethodPtr& m) const { out += "<built-in method " + m->name + ">"; }
  };
  std::visit(V{out}, v.storage());
}

std::string to_str(const Value& v) {
  if (v.is_string()) return v.str();
  std::string out;
  append_str(out, v);
  return out;
}

std::string to_repr(const Value& v) {
  std::string out;
  append_repr(out, v);
  return out;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x == y;
    }
    return a.to_double() == b.to_double();
  }
  if (a.storage().index() != b.storage().index()) return false;
  if (a.is_undefined() || a.is_none()) return true;
  if (a.is_string()) return a.str() == b.str();
  if (a.is_list()) {
    const auto& x = a.list_ref().items;
    const auto& y = b.list_ref().items;
    if (x.size() != y.size() || a.list_ref().tuple != b.list_ref().tuple) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!equals(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_dict()) {
    const auto& x = a.dict_ref();
    const auto& y = b.dict_ref();
    if (x.items.size() != y.items.size()) return false;
    for (const auto& [k, v] : x.items) {
      const Value* o = y.find(k);
      if (!o || !equals(v, *o)) return false;
    }
    return true;
  }
  if (a.is_namespace()) return &a.ns_ref() == &b.ns_ref();
  if (std::holds_alternative<CallablePtr>(a.storage())) return &a.callable_ref() == &b.callable_ref();
  return false;
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x < y;
    }
    return a.to_double() < b.to_double();
  }
  if (a.is_string() && b.is_string()) {
    // Byte order of UTF-8 equals code point order.
    return a.str() < b.str();
  }
  if (a.is_list() && b.is_list()) {
    const auto& x = a.list_ref().items;
    const auto& y = b.list_ref().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return less_than(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw std::invalid_argument("'<' not supported between instances of '" + a.type_name() + "' and '" +
                              b.type_name() + "'");
}

bool py_isspace(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++n;
  }
  return n;
}

std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

// Code point at s[i] (invalid bytes decode as themselves so that they are never whitespace).
uint32_t cp_at(std::string_view s, size_t i, size_t& len) {
  uint32_t cp = 0;
  len = util::decode_utf8(s, i, cp);
  if (len == 0) {
    len = 1;
    return 0xfffd;
  }
  return cp;
}

}  // namespace

std::string py_strip(std::string_view s, const Value& chars, bool left, bool right) {
  std::vector<std::string_view> set;
  bool whitespace = chars.is_undefined() || chars.is_none();
  if (!whitespace) set = utf8_chars(chars.str());
  auto strip_here = [&](std::string_view ch) {
    if (whitespace) {
      size_t len = 0;
      return py_isspace(cp_at(ch, 0, len));
    }
    for (auto c : set) {
      if (c == ch) return true;
    }
    return false;
  };
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      size_t j = begin + 1;
      while (j < end && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) ++j;
      if (!strip_here(s.substr(begin, j - begin))) break;
      begin = j;
    }
  }
  if (right) {
    while (end > begin) {
      size_t j = end - 1;
      while (j > begin && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) --j;
      if (!strip_here(s.substr(j, end - j))) break;
      end = j;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

}  // namespace um::text::detail
