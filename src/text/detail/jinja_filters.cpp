// jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py) as chat templates use them.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "text/detail/jinja_args.h"
#include "text/detail/jinja_error.h"
#include "text/detail/jinja_interp.h"
#include "text/detail/jinja_ops.h"

namespace um::text::detail {
namespace {

const char* const kFilters[] = {
    "abs",     "attr",    "capitalize", "count",  "d",      "default",    "dictsort", "e",
    "escape",  "first",   "float",      "indent", "int",    "items",      "join",     "last",
    "length",  "list",    "lower",      "map",    "max",    "min",        "reject",   "rejectattr",
    "replace", "reverse", "round",      "safe",   "select", "selectattr", "sort",     "string",
    "sum",     "title",   "tojson",     "trim",   "unique", "upper",      "wordcount"};
const char* const kTests[] = {
    "boolean",  "callable", "defined",  "divisibleby", "eq",          "equalto", "escaped", "even",
    "false",    "filter",   "float",    "ge",          "greaterthan", "gt",      "in",      "integer",
    "iterable", "le",       "lessthan", "lower",       "lt",          "mapping", "ne",      "none",
    "number",   "odd",      "sameas",   "sequence",    "string",      "test",    "true",    "undefined",
    "upper",    "==",       "!=",       "<",           "<=",          ">",       ">="};

template <size_t N>
bool in_list(const char* const (&table)[N], const std::string& name) {
  return std::any_of(std::begin(table), std::end(table), [&](const char* t) { return name == t; });
}

// jinja2's make_attrgetter: "a.b.0" walks getitem per part (integers index lists).
Value attr_path(const Value& item, const std::string& path) {
  Value cur = item;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = get_item(cur, numeric ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Python's int(str, base) / float(str) as jinja2's int filter uses them.
bool parse_int(const std::string& raw, int base, int64_t& out) {
  std::string s = py_strip(raw, Value(), true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
        std::isalnum(static_cast<unsigned char>(s[i + 1]))) {
      continue;
    }
    clean += s[i];
  }
  if (clean.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(clean.c_str(), &end, base);
  if (errno != 0 || end != clean.c_str() + clean.size()) return false;
  out = v;
  return true;
}

bool parse_float(const std::string& raw, double& out) {
  std::string s = py_strip(raw, Value(), true, true);
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::vector<Value> seq_items(const Value& v) { return iterate(v); }

Value sort_key(const Value& item, const Value& attribute, bool case_sensitive) {
  Value k = given(attribute) && !attribute.is_none() ? attr_path(item, to_str(attribute)) : item;
  if (!case_sensitive && k.is_string()) {
    CallArgs none;
    return call_method(k, "lower", none);
  }
  return k;
}

std::string title_filter(const std::string& s) {
  // jinja2: re.split(r"([-\s\(\{\[\<]+)") then item[0].upper() + item[1:].lower().
  std::string out;
  bool word_start = true;
  for (auto ch : utf8_chars(s)) {
    bool sep = ch.size() == 1 && (ch[0] == '-' || ch[0] == '(' || ch[0] == '{' || ch[0] == '[' ||
                                  ch[0] == '<' || py_isspace(static_cast<unsigned char>(ch[0])));
    if (sep) {
      out += ch;
      word_start = true;
      continue;
    }
    CallArgs none;
    out += to_str(call_method(Value(std::string(ch)), word_start ? "upper" : "lower", none));
    word_start = false;
  }
  return out;
}

std::string indent_filter(const std::string& s, const Value& width, bool first, bool blank) {
  const int64_t w = width.is_string() ? 0 : given(width) ? need_int(width, "width") : 4;
  check_value_bytes(static_cast<size_t>(std::max<int64_t>(w, 0)));
  std::string ind =
      width.is_string() ? width.str() : std::string(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  // Every line gets the indent: the result is at most the text plus one indent per line.
  const size_t line_count = static_cast<size_t>(std::count(s.begin(), s.end(), '\n')) + 1;
  check_value_bytes(s.size() + saturating_mul(line_count, ind.size()));
  CallArgs none;
  Value lines_v = call_method(Value(s + "\n"), "splitlines", none);
  std::vector<Value> lines = lines_v.list_ref().items;
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + ind;
      rv += lines[i].str();
    }
  } else if (!lines.empty()) {
    rv = lines[0].str();
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].str().empty()) rv += ind;
      rv += lines[i].str();
    }
  }
  if (first) rv = ind + rv;
  return rv;
}

}  // namespace

bool is_known_filter(const std::string& name) { return in_list(kFilters, name); }
bool is_known_test(const std::string& name) { return in_list(kTests, name); }

Value Interpreter::filter(const std::string& name, const Value& v, CallArgs& a) {
  if (name == "trim") return Value(py_strip(to_str(v), arg(a, 0, "chars"), true, true));
  if (name == "tojson") {
    Value sort = arg(a, 3, "sort_keys");
    Value ascii = arg(a, 0, "ensure_ascii");
    return Value(to_json(v, arg(a, 1, "indent"), arg(a, 2, "separators"), sort.truthy(), ascii.truthy()));
  }
  if (name == "length" || name == "count") return Value(length_of(v));
  if (name == "upper" || name == "lower" || name == "capitalize") {
    CallArgs none;
    return call_method(Value(to_str(v)), name, none);
  }
  if (name == "title") return Value(title_filter(to_str(v)));
  if (name == "default" || name == "d") {
    Value def = arg(a, 0, "default_value");
    if (v.is_undefined() || (arg(a, 1, "boolean").truthy() && !v.truthy())) {
      return given(def) ? def : Value("");
    }
    return v;
  }
  if (name == "join") {
    Value sep = arg(a, 0, "d");
    Value attribute = arg(a, 1, "attribute");
    std::string s = given(sep) ? to_str(sep) : std::string();
    std::string out;
    bool first = true;
    for (const auto& item : seq_items(v)) {
      if (!first) out += s;
      first = false;
      append_str(out, given(attribute) ? attr_path(item, to_str(attribute)) : item);
    }
    return Value(std::move(out));
  }
  if (name == "first" || name == "last") {
    auto items = seq_items(v);
    if (items.empty()) return Undefined{std::string("No ") + name + " item, sequence was empty."};
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::list(seq_items(v));
  if (name == "string") return Value(to_str(v));
  if (name == "safe") return v;
  if (name == "escape" || name == "e") return Value(html_escape(to_str(v)));
  if (name == "items") {
    if (v.is_undefined()) return Value::list();
    if (!v.is_dict()) throw RuntimeError("Can only get item pairs from a mapping.");
    CallArgs none;
    return call_method(v, "items", none);
  }
  if (name == "map") {
    std::vector<Value> out;
    Value attribute = arg(a, 99, "attribute");
    if (a.positional.empty() && given(attribute)) {
      Value def = arg(a, 99, "default");
      for (const auto& item : seq_items(v)) {
        Value r = attr_path(item, to_str(attribute));
        out.push_back(r.is_undefined() && given(def) ? def : r);
      }
    } else {
      if (a.positional.empty()) throw RuntimeError("map requires a filter argument");
      std::string fname = to_str(a.positional[0]);
      if (!is_known_filter(fname)) throw RuntimeError("No filter named '" + fname + "'.");
      CallArgs rest;
      rest.positional.assign(a.positional.begin() + 1, a.positional.end());
      rest.keyword = a.keyword;
      for (const auto& item : seq_items(v)) out.push_back(filter(fname, item, rest));
    }
    return Value::list(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    bool attr_mode = name == "selectattr" || name == "rejectattr";
    bool keep_if = name == "select" || name == "selectattr";
    size_t first_test = attr_mode ? 1 : 0;
    std::string attribute = attr_mode ? to_str(arg(a, 0, "attribute")) : std::string();
    std::string tname = a.positional.size() > first_test ? to_str(a.positional[first_test]) : std::string();
    CallArgs targs;
    if (a.positional.size() > first_test + 1) {
      targs.positional.assign(a.positional.begin() + static_cast<long>(first_test) + 1, a.positional.end());
    }
    std::vector<Value> out;
    for (const auto& item : seq_items(v)) {
      Value x = attr_mode ? attr_path(item, attribute) : item;
      bool ok = tname.empty() ? x.truthy() : test(tname, x, targs);
      if (ok == keep_if) out.push_back(item);
    }
    return Value::list(std::move(out));
  }
  if (name == "int") {
    Value def = arg(a, 0, "default");
    Value base = arg(a, 1, "base");
    Value fallback = given(def) ? def : Value(int64_t{0});
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float()) return Value(static_cast<int64_t>(std::trunc(v.as_float())));
    if (v.is_string()) {
      int64_t i = 0;
      if (parse_int(v.str(), given(base) ? static_cast<int>(need_int(base, "base")) : 10, i)) return Value(i);
      double d = 0;
      if (parse_float(v.str(), d) && std::isfinite(d)) return Value(static_cast<int64_t>(std::trunc(d)));
    }
    return fallback;
  }
  if (name == "float") {
    Value def = arg(a, 0, "default");
    if (v.is_number()) return Value(v.to_double());
    double d = 0;
    if (v.is_string() && parse_float(v.str(), d)) return Value(d);
    return given(def) ? def : Value(0.0);
  }
  if (name == "abs") {
    if (v.is_int()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    throw RuntimeError("bad operand type for abs(): '" + v.type_name() + "'");
  }
  if (name == "round") {
    Value prec = arg(a, 0, "precision");
    Value method = arg(a, 1, "method");
    std::string m = given(method) ? to_str(method) : "common";
    double scale = std::pow(10.0, static_cast<double>(given(prec) ? need_int(prec, "precision") : 0));
    double x = v.to_double() * scale;
    double r = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::nearbyint(x);
    return Value(r / scale);
  }
  if (name == "replace") {
    CallArgs args;
    args.positional = {arg(a, 0, "old"), arg(a, 1, "new")};
    Value count = arg(a, 2, "count");
    if (given(count) && !count.is_none()) args.positional.push_back(count);
    return call_method(Value(to_str(v)), "replace", args);
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto chars = utf8_chars(v.str());
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value(std::move(out));
    }
    auto items = seq_items(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "sort" || name == "unique" || name == "min" || name == "max") {
    bool cs = arg(a, name == "sort" ? 1 : 0, "case_sensitive").truthy();
    Value attribute = arg(a, name == "sort" ? 2 : 1, "attribute");
    auto items = seq_items(v);
    if (name == "unique") {
      std::vector<Value> out, seen;
      for (const auto& item : items) {
        Value k = sort_key(item, attribute, cs);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) {
          seen.push_back(k);
          out.push_back(item);
        }
      }
      return Value::list(std::move(out));
    }
    try {
      if (name == "sort") {
        bool reverse = arg(a, 0, "reverse").truthy();
        std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
          return reverse ? less_than(sort_key(y, attribute, cs), sort_key(x, attribute, cs))
                         : less_than(sort_key(x, attribute, cs), sort_key(y, attribute, cs));
        });
        return Value::list(std::move(items));
      }
      if (items.empty()) return Undefined{"No aggregated item, sequence was empty."};
      size_t best = 0;
      for (size_t i = 1; i < items.size(); ++i) {
        bool better =
            name == "min"
                ? less_than(sort_key(items[i], attribute, cs), sort_key(items[best], attribute, cs))
                : less_than(sort_key(items[best], attribute, cs), sort_key(items[i], attribute, cs));
        if (better) best = i;
      }
      return items[best];
    } catch (const std::invalid_argument& e) {
      throw RuntimeError(e.what());
    }
  }
  if (name == "dictsort") {
    if (!v.is_dict()) throw RuntimeError("dictsort requires a mapping");
    bool cs = arg(a, 0, "case_sensitive").truthy();
    Value by = arg(a, 1, "by");
    bool by_value = given(by) && to_str(by) == "value";
    bool reverse = arg(a, 2, "reverse").truthy();
    CallArgs none;
    auto items = call_method(v, "items", none).list_ref().items;
    try {
      std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        Value kx = sort_key(x.list_ref().items[by_value ? 1 : 0], Value(), cs);
        Value ky = sort_key(y.list_ref().items[by_value ? 1 : 0], Value(), cs);
        return reverse ? less_than(ky, kx) : less_than(kx, ky);
      });
    } catch (const std::invalid_argument& e) {
      throw RuntimeError(e.what());
    }
    return Value::list(std::move(items));
  }
  if (name == "sum") {
    Value attribute = arg(a, 0, "attribute");
    Value start = arg(a, 1, "start");
    Value total = given(start) ? start : Value(int64_t{0});
    for (const auto& item : seq_items(v)) {
      total = binary_op("+", total, given(attribute) ? attr_path(item, to_str(attribute)) : item);
    }
    return total;
  }
  if (name == "indent") {
    return Value(indent_filter(to_str(v), arg(a, 0, "width"), arg(a, 1, "first").truthy(),
                               arg(a, 2, "blank").truthy()));
  }
  if (name == "attr") return get_attr(v, to_str(arg(a, 0, "name")));
  if (name == "wordcount") {
    CallArgs none;
    return Value(length_of(call_method(Value(to_str(v)), "split", none)));
  }
  throw RuntimeError("No filter named '" + name + "'.");
}

bool Interpreter::test(const std::string& name, const Value& v, CallArgs& a) {
  Value x = arg(a, 0, "other");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") return v.is_string() || v.is_list() || v.is_dict();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.is_callable();
  if (name == "escaped") return false;
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    CallArgs none;
    return call_method(v, name == "lower" ? "islower" : "isupper", none).truthy();
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    int64_t n = need_int(v, "value");
    int64_t d = name == "divisibleby" ? need_int(x, "num") : 2;
    if (d == 0) throw RuntimeError("integer division or modulo by zero");
    int64_t r = ((n % d) + d) % d;
    return name == "odd" ? r == 1 : r == 0;
  }
  if (name == "sameas") {
    // Python's `is`: None/bools are singletons; equal small ints and strings are usually the same
    // object in CPython, so scalars compare by type and value.
    if (v.storage().index() == x.storage().index() &&
        (v.is_none() || v.is_bool() || v.is_int() || v.is_string())) {
      return equals(v, x);
    }
    if (v.is_list() && x.is_list()) return &v.list_ref() == &x.list_ref();
    if (v.is_dict() && x.is_dict()) return &v.dict_ref() == &x.dict_ref();
    return false;
  }
  if (name == "eq" || name == "equalto" || name == "==") return compare_op("==", v, x);
  if (name == "ne" || name == "!=") return compare_op("!=", v, x);
  if (name == "lt" || name == "lessthan" || name == "<") return compare_op("<", v, x);
  if (name == "le" || name == "<=") return compare_op("<=", v, x);
  if (name == "gt" || name == "greaterthan" || name == ">") return compare_op(">", v, x);
  if (name == "ge" || name == ">=") return compare_op(">=", v, x);
  if (name == "in") return contains(x, v);
  if (name == "filter") return v.is_string() && is_known_filter(v.str());
  if (name == "test") return v.is_string() && is_known_test(v.str());
  throw RuntimeError("No test named '" + name + "'.");
}

}  // namespace um::text::detail
