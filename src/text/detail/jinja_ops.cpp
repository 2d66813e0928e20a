#include "text/detail/jinja_ops.h"

#include <cmath>
#include <optional>
#include <stdexcept>

#include "text/detail/jinja_error.h"

namespace um::text::detail {

[[noreturn]] void fail_undefined(const Value& v) {
  const std::string& hint = v.undefined_ref().hint;
  throw RuntimeError(hint.empty() ? "value is undefined" : hint);
}

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  throw RuntimeError("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                     b.type_name() + "'");
}

int64_t int_of(const Value& v) { return v.is_bool() ? (v.as_bool() ? 1 : 0) : v.as_int(); }

bool both_int(const Value& a, const Value& b) {
  return a.is_number() && b.is_number() && !a.is_float() && !b.is_float();
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Bytes of the strings held directly by a list (copied by value when the list is repeated/joined).
size_t direct_string_bytes(const List& l) {
  size_t b = 0;
  for (const auto& x : l.items) b += x.is_string() ? x.str().size() : sizeof(Value);
  return b;
}

Value repeat(const Value& seq, int64_t n) {
  const size_t times = n > 0 ? static_cast<size_t>(n) : 0;
  check_value_bytes(
      saturating_mul(seq.is_string() ? seq.str().size() : direct_string_bytes(seq.list_ref()), times));
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out));
  }
  std::vector<Value> items;
  for (int64_t i = 0; i < n; ++i) {
    for (const auto& x : seq.list_ref().items) items.push_back(x);
  }
  return Value::list(std::move(items), seq.list_ref().tuple);
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = to_str(a);
    append_str(s, b);
    return Value(std::move(s));
  }
  const char c = op[0];
  if (op == "+") {
    if (both_int(a, b)) return Value(int_of(a) + int_of(b));
    if (a.is_number() && b.is_number()) return Value(a.to_double() + b.to_double());
    if (a.is_string() && b.is_string()) {
      check_value_bytes(a.str().size() + b.str().size());
      return Value(a.str() + b.str());
    }
    if (a.is_list() && b.is_list()) {
      check_value_bytes(direct_string_bytes(a.list_ref()) + direct_string_bytes(b.list_ref()));
      std::vector<Value> items = a.list_ref().items;
      for (const auto& x : b.list_ref().items) items.push_back(x);
      return Value::list(std::move(items), a.list_ref().tuple);
    }
    if ((a.is_string() || a.is_list()) && b.is_undefined()) fail_undefined(b);
    unsupported("+", a, b);
  }
  if (op == "*") {
    if (both_int(a, b)) return Value(int_of(a) * int_of(b));
    if (a.is_number() && b.is_number()) return Value(a.to_double() * b.to_double());
    if ((a.is_string() || a.is_list()) && b.is_number() && !b.is_float()) return repeat(a, int_of(b));
    if ((b.is_string() || b.is_list()) && a.is_number() && !a.is_float()) return repeat(b, int_of(a));
    unsupported("*", a, b);
  }
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  if (op == "-") {
    if (both_int(a, b)) return Value(int_of(a) - int_of(b));
    return Value(a.to_double() - b.to_double());
  }
  if (op == "/") {
    if (b.to_double() == 0.0) throw RuntimeError("division by zero");
    return Value(a.to_double() / b.to_double());
  }
  if (op == "//") {
    if (b.to_double() == 0.0) throw RuntimeError("integer division or modulo by zero");
    if (both_int(a, b)) return Value(floor_div(int_of(a), int_of(b)));
    return Value(std::floor(a.to_double() / b.to_double()));
  }
  if (c == '%') {
    if (b.to_double() == 0.0) throw RuntimeError("integer division or modulo by zero");
    if (both_int(a, b)) {
      int64_t x = int_of(a), y = int_of(b);
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value(r);
    }
    double x = a.to_double(), y = b.to_double();
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return Value(r);
  }
  if (op == "**") {
    if (both_int(a, b) && int_of(b) >= 0) {
      int64_t base = int_of(a), exp = int_of(b), r = 1;
      for (int64_t i = 0; i < exp; ++i) r *= base;
      return Value(r);
    }
    return Value(std::pow(a.to_double(), b.to_double()));
  }
  throw RuntimeError("unknown operator " + op);
}

bool contains(const Value& container, const Value& needle) {
  if (container.is_string()) {
    if (!needle.is_string()) {
      if (needle.is_undefined()) fail_undefined(needle);
      throw RuntimeError("'in <string>' requires string as left operand, not " + needle.type_name());
    }
    return container.str().find(needle.str()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const auto& x : container.list_ref().items) {
      if (equals(x, needle)) return true;
    }
    return false;
  }
  if (container.is_dict()) {
    return needle.is_string() && container.dict_ref().find(needle.str()) != nullptr;
  }
  if (container.is_undefined()) return false;
  throw RuntimeError("argument of type '" + container.type_name() + "' is not iterable");
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  try {
    if (op == "<") return less_than(a, b);
    if (op == ">") return less_than(b, a);
    if (op == "<=") return less_than(a, b) || equals(a, b);
    if (op == ">=") return less_than(b, a) || equals(a, b);
  } catch (const std::invalid_argument& e) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    throw RuntimeError(e.what());
  }
  throw RuntimeError("unknown comparison " + op);
}

Value negate(const Value& v) {
  if (v.is_int() || v.is_bool()) return Value(-int_of(v));
  if (v.is_float()) return Value(-v.as_float());
  if (v.is_undefined()) fail_undefined(v);
  throw RuntimeError("bad operand type for unary -: '" + v.type_name() + "'");
}

namespace {

const char* const kStrMethods[] = {"startswith", "endswith", "strip",   "lstrip",  "rstrip",     "split",
                                   "rsplit",     "replace",  "upper",   "lower",   "title",      "capitalize",
                                   "find",       "rfind",    "count",   "join",    "splitlines", "isdigit",
                                   "isalpha",    "isspace",  "isupper", "islower", "format",     "index"};
const char* const kDictMethods[] = {"get", "items", "keys", "values", "copy"};
const char* const kListMethods[] = {"index", "count", "copy"};

template <size_t N>
bool in_table(const char* const (&table)[N], const std::string& name) {
  for (const char* m : table) {
    if (name == m) return true;
  }
  return false;
}

std::string obj_desc(const Value& v) {
  if (v.is_none()) return "None";
  return "'" + v.type_name() + " object'";
}

}  // namespace

bool has_method(const Value& self, const std::string& name) {
  if (self.is_string()) return in_table(kStrMethods, name);
  if (self.is_dict()) return in_table(kDictMethods, name);
  if (self.is_list()) return in_table(kListMethods, name);
  return false;
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (has_method(obj, name)) {
    auto m = std::make_shared<BoundMethod>();
    m->self = std::make_shared<const Value>(obj);
    m->name = name;
    return Value(std::move(m));
  }
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_ref().find(name)) return *v;
  } else if (obj.is_namespace()) {
    if (const Value* v = obj.ns_ref().attrs.find(name)) return *v;
  }
  return Undefined{obj_desc(obj) + " has no attribute '" + name + "'"};
}

namespace {

// Python index normalisation; returns false when out of range.
bool normalize_index(int64_t& i, int64_t n) {
  if (i < 0) i += n;
  return i >= 0 && i < n;
}

}  // namespace

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (key.is_string()) {
      if (const Value* v = obj.dict_ref().find(key.str())) return *v;
    }
    return Undefined{obj_desc(obj) + " has no attribute " + to_repr(key)};
  }
  if (obj.is_namespace() && key.is_string()) return get_attr(obj, key.str());
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = int_of(key);
    if (obj.is_list()) {
      const auto& items = obj.list_ref().items;
      if (normalize_index(i, static_cast<int64_t>(items.size()))) return items[static_cast<size_t>(i)];
    } else {
      auto chars = utf8_chars(obj.str());
      if (normalize_index(i, static_cast<int64_t>(chars.size()))) {
        return Value(std::string(chars[static_cast<size_t>(i)]));
      }
    }
    return Undefined{obj_desc(obj) + " has no attribute " + to_repr(key)};
  }
  if (key.is_string()) return get_attr(obj, key.str());
  return Undefined{obj_desc(obj) + " has no attribute " + to_repr(key)};
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  auto opt_int = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    if (v.is_int() || v.is_bool()) return int_of(v);
    throw RuntimeError(std::string("slice ") + what + " must be an integer or None");
  };
  int64_t st = opt_int(step, "step").value_or(1);
  if (st == 0) throw RuntimeError("slice step cannot be zero");
  std::vector<std::string_view> chars;
  int64_t n = 0;
  if (obj.is_string()) {
    chars = utf8_chars(obj.str());
    n = static_cast<int64_t>(chars.size());
  } else if (obj.is_list()) {
    n = static_cast<int64_t>(obj.list_ref().items.size());
  } else {
    throw RuntimeError("'" + obj.type_name() + "' object is not subscriptable");
  }
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t def) {
    if (!v) return def;
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t b = adjust(opt_int(start, "start"), st < 0 ? n - 1 : 0);
  int64_t e = adjust(opt_int(stop, "stop"), st < 0 ? -1 : n);
  std::vector<size_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) idx.push_back(static_cast<size_t>(i));
  if (obj.is_string()) {
    std::string out;
    for (size_t i : idx) out += chars[i];
    return Value(std::move(out));
  }
  std::vector<Value> items;
  items.reserve(idx.size());
  for (size_t i : idx) items.push_back(obj.list_ref().items[i]);
  return Value::list(std::move(items), obj.list_ref().tuple);
}

std::vector<Value> iterate(const Value& v) {
  std::vector<Value> out;
  if (v.is_list()) return v.list_ref().items;
  if (v.is_dict()) {
    for (const auto& kv : v.dict_ref().items) out.emplace_back(kv.first);
    return out;
  }
  if (v.is_string()) {
    for (auto c : utf8_chars(v.str())) out.emplace_back(std::string(c));
    return out;
  }
  if (v.is_undefined()) return out;
  throw RuntimeError("'" + v.type_name() + "' object is not iterable");
}

int64_t length_of(const Value& v) {
  if (v.is_string()) return static_cast<int64_t>(utf8_length(v.str()));
  if (v.is_list()) return static_cast<int64_t>(v.list_ref().items.size());
  if (v.is_dict()) return static_cast<int64_t>(v.dict_ref().items.size());
  if (v.is_undefined()) return 0;
  throw RuntimeError("object of type '" + v.type_name() + "' has no len()");
}

}  // namespace um::text::detail
