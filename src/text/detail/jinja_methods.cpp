// Python str / dict / list methods that chat templates call. ImmutableSandboxedEnvironment forbids
// the mutating ones (append, pop, update, ...), so they are simply absent here.
#include <utf8proc.h>

#include "text/detail/jinja_args.h"
#include "text/detail/jinja_error.h"
#include "text/detail/jinja_ops.h"
#include "util/utf8.h"

namespace um::text::detail {
namespace {

std::vector<uint32_t> decode(std::string_view s) {
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t n = util::decode_utf8(s, i, cp);
    if (n == 0) {
      cp = 0xfffd;
      n = 1;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string encode(const std::vector<uint32_t>& cps) {
  std::string out;
  for (uint32_t cp : cps) util::append_utf8(out, cp);
  return out;
}

uint32_t to_upper(uint32_t c) {
  return static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
}
uint32_t to_lower(uint32_t c) {
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}
uint32_t to_title(uint32_t c) {
  return static_cast<uint32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c)));
}
bool is_cased(uint32_t c) { return to_upper(c) != c || to_lower(c) != c || to_title(c) != c; }

bool matches_affix(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    const std::string& x = need_str(a, prefix ? "startswith arg" : "endswith arg");
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is_list()) {
    for (const auto& a : affix.list_ref().items) {
      if (one(a)) return true;
    }
    return false;
  }
  return one(affix);
}

Value split_whitespace(const std::string& s, int64_t maxsplit, bool from_right) {
  auto cps = decode(s);
  std::vector<std::pair<size_t, size_t>> spans;  // code point [begin, end)
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && py_isspace(cps[i])) ++i;
    if (i >= cps.size()) break;
    size_t j = i;
    while (j < cps.size() && !py_isspace(cps[j])) ++j;
    spans.emplace_back(i, j);
    i = j;
  }
  std::vector<Value> out;
  auto sub = [&](size_t b, size_t e) {
    return Value(encode(
        std::vector<uint32_t>(cps.begin() + static_cast<long>(b), cps.begin() + static_cast<long>(e))));
  };
  if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= spans.size()) {
    for (auto [b, e] : spans) out.push_back(sub(b, e));
  } else if (!from_right) {
    for (size_t k = 0; k < static_cast<size_t>(maxsplit); ++k)
      out.push_back(sub(spans[k].first, spans[k].second));
    size_t rest = spans[static_cast<size_t>(maxsplit)].first;
    size_t end = cps.size();
    while (end > rest && py_isspace(cps[end - 1])) --end;
    out.push_back(sub(rest, end));
  } else {
    size_t keep = spans.size() - static_cast<size_t>(maxsplit);
    size_t b = 0;
    while (b < cps.size() && py_isspace(cps[b])) ++b;
    out.push_back(sub(b, spans[keep - 1].second));
    for (size_t k = keep; k < spans.size(); ++k) out.push_back(sub(spans[k].first, spans[k].second));
  }
  return Value::list(std::move(out));
}

Value split_sep(const std::string& s, const std::string& sep, int64_t maxsplit, bool from_right) {
  if (sep.empty()) throw RuntimeError("empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    size_t pos = 0;
    int64_t n = 0;
    while (maxsplit < 0 || n < maxsplit) {
      size_t p = s.find(sep, pos);
      if (p == std::string::npos) break;
      parts.push_back(s.substr(pos, p - pos));
      pos = p + sep.size();
      ++n;
    }
    parts.push_back(s.substr(pos));
  } else {
    size_t end = s.size();
    int64_t n = 0;
    std::vector<std::string> rev;
    while (maxsplit < 0 || n < maxsplit) {
      if (end < sep.size()) break;
      size_t p = s.rfind(sep, end - sep.size());
      if (p == std::string::npos) break;
      rev.push_back(s.substr(p + sep.size(), end - p - sep.size()));
      end = p;
      ++n;
    }
    rev.push_back(s.substr(0, end));
    parts.assign(rev.rbegin(), rev.rend());
  }
  std::vector<Value> out;
  for (auto& p : parts) out.emplace_back(std::move(p));
  return Value::list(std::move(out));
}

std::string replace_all(const std::string& s, const std::string& old, const std::string& rep, int64_t count) {
  std::string out;
  if (old.empty()) {
    auto chars = utf8_chars(s);
    size_t inserts = chars.size() + 1;
    if (count >= 0) inserts = std::min(inserts, static_cast<size_t>(count));
    check_value_bytes(s.size() + saturating_mul(inserts, rep.size()));
    int64_t done = 0;
    for (auto c : chars) {
      if (count < 0 || done < count) {
        out += rep;
        ++done;
      }
      out += c;
    }
    if (count < 0 || done < count) out += rep;
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(old, pos);
    if (p == std::string::npos) break;
    out.append(s, pos, p - pos);
    out += rep;
    check_value_bytes(out.size());
    pos = p + old.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_pos)));
}

Value str_method(const std::string& s, const std::string& name, CallArgs& a) {
  if (name == "startswith" || name == "endswith") {
    if (given(arg(a, 1, "start"))) throw RuntimeError(name + " with start/end is not supported");
    return Value(matches_affix(s, arg(a, 0, "prefix"), name == "startswith"));
  }
  if (name == "strip") return Value(py_strip(s, arg(a, 0, "chars"), true, true));
  if (name == "lstrip") return Value(py_strip(s, arg(a, 0, "chars"), true, false));
  if (name == "rstrip") return Value(py_strip(s, arg(a, 0, "chars"), false, true));
  if (name == "split" || name == "rsplit") {
    Value sep = arg(a, 0, "sep");
    Value maxv = arg(a, 1, "maxsplit");
    int64_t maxsplit = given(maxv) ? need_int(maxv, "maxsplit") : -1;
    if (!given(sep) || sep.is_none()) return split_whitespace(s, maxsplit, name == "rsplit");
    return split_sep(s, need_str(sep, "separator"), maxsplit, name == "rsplit");
  }
  if (name == "splitlines") {
    std::vector<Value> out;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t p = s.find_first_of("\n\r", pos);
      if (p == std::string::npos) {
        out.emplace_back(s.substr(pos));
        break;
      }
      out.emplace_back(s.substr(pos, p - pos));
      pos = p + ((s[p] == '\r' && p + 1 < s.size() && s[p + 1] == '\n') ? 2 : 1);
    }
    return Value::list(std::move(out));
  }
  if (name == "replace") {
    Value count = arg(a, 2, "count");
    return Value(replace_all(s, need_str(arg(a, 0, "old"), "replace() argument 1"),
                             need_str(arg(a, 1, "new"), "replace() argument 2"),
                             given(count) ? need_int(count, "count") : -1));
  }
  if (name == "upper" || name == "lower") {
    auto cps = decode(s);
    for (auto& c : cps) c = name == "upper" ? to_upper(c) : to_lower(c);
    return Value(encode(cps));
  }
  if (name == "title") {
    auto cps = decode(s);
    bool prev_cased = false;
    for (auto& c : cps) {
      bool cased = is_cased(c);
      c = prev_cased ? to_lower(c) : to_title(c);
      prev_cased = cased;
    }
    return Value(encode(cps));
  }
  if (name == "capitalize") {
    auto cps = decode(s);
    for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? to_title(cps[i]) : to_lower(cps[i]);
    return Value(encode(cps));
  }
  if (name == "find" || name == "rfind" || name == "index") {
    const std::string sub = need_str(arg(a, 0, "sub"), "substring");  // copy: arg() is a temporary
    size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index") throw RuntimeError("substring not found");
      return Value(int64_t{-1});
    }
    return Value(cp_index(s, p));
  }
  if (name == "count") {
    const std::string sub = need_str(arg(a, 0, "sub"), "substring");  // copy: arg() is a temporary
    if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s)) + 1);
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const auto& item : iterate(arg(a, 0, "iterable"))) {
      if (!first) out += s;
      first = false;
      out += need_str(item, "sequence item");
      check_value_bytes(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isupper" || name == "islower") {
    auto cps = decode(s);
    if (cps.empty()) return Value(false);
    bool any_cased = false;
    for (uint32_t c : cps) {
      if (name == "isdigit" && !(c >= '0' && c <= '9')) return Value(false);
      if (name == "isspace" && !py_isspace(c)) return Value(false);
      if (name == "isalpha") {
        auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_LO) return Value(false);
      }
      if ((name == "isupper" || name == "islower") && is_cased(c)) {
        any_cased = true;
        if (name == "isupper" && to_upper(c) != c) return Value(false);
        if (name == "islower" && to_lower(c) != c) return Value(false);
      }
    }
    if (name == "isupper" || name == "islower") return Value(any_cased);
    return Value(true);
  }
  throw RuntimeError("str." + name + "() is not supported");
}

}  // namespace

Value call_method(const Value& self, const std::string& name, CallArgs& a) {
  if (self.is_string()) return str_method(self.str(), name, a);
  if (self.is_dict()) {
    const Dict& d = self.dict_ref();
    if (name == "get") {
      Value key = arg(a, 0, "key");
      Value def = arg(a, 1, "default");
      if (key.is_string()) {
        if (const Value* v = d.find(key.str())) return *v;
      }
      return given(def) ? def : Value(None{});
    }
    std::vector<Value> out;
    out.reserve(d.items.size());
    if (name == "items") {
      for (const auto& [k, v] : d.items) out.push_back(Value::list({Value(k), v}, true));
    } else if (name == "keys") {
      for (const auto& kv : d.items) out.emplace_back(kv.first);
    } else if (name == "values") {
      for (const auto& kv : d.items) out.push_back(kv.second);
    } else if (name == "copy") {
      return Value(std::make_shared<Dict>(d));
    } else {
      throw RuntimeError("dict." + name + "() is not supported");
    }
    return Value::list(std::move(out));
  }
  if (self.is_list()) {
    const auto& items = self.list_ref().items;
    if (name == "copy") return Value::list(items, self.list_ref().tuple);
    Value x = arg(a, 0, "value");
    int64_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (equals(items[i], x)) {
        if (name == "index") return Value(static_cast<int64_t>(i));
        ++n;
      }
    }
    if (name == "index") throw RuntimeError(to_repr(x) + " is not in list");
    return Value(n);
  }
  throw RuntimeError("'" + self.type_name() + "' object has no method '" + name + "'");
}

}  // namespace um::text::detail
