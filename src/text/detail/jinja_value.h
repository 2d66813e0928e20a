#pragma once
// Values of the Jinja interpreter, with Python semantics (truthiness, str(), ==, ordering).
//
// A Value is cheap to copy: containers are shared (the sandbox that transformers uses makes lists and
// dicts immutable, so sharing is safe); only namespace() objects are mutable, by design.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace um::text::detail {

class Value;
class Interpreter;

// jinja2's default Undefined: renders as "", is falsy, iterates as empty, fails on most operations.
// `hint` is the message jinja2 would raise ("'x' is undefined").
struct Undefined {
  std::string hint;
};
struct None {};

struct List {
  std::vector<Value> items;
  bool tuple = false;  // only changes repr(): (a, b) instead of [a, b]
  uint32_t depth = 1;  // 1 + the deepest item's depth (value_depth), set by Value::list
};

// Insertion-ordered mapping with string keys (JSON objects, dict literals, namespace objects).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value v);  // keeps `depth`
  // Recomputes `depth` after items were added directly; throws RuntimeError beyond kMaxValueDepth.
  void update_depth();
  uint32_t depth = 1;
};

struct Namespace {
  Dict attrs;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

// A method looked up but not yet called (`s.upper`); calling it dispatches on the receiver's type.
struct BoundMethod {
  std::shared_ptr<const Value> self;
  std::string name;
};

using ListPtr = std::shared_ptr<List>;
using DictPtr = std::shared_ptr<Dict>;
using NamespacePtr = std::shared_ptr<Namespace>;
using CallablePtr = std::shared_ptr<Callable>;
using MethodPtr = std::shared_ptr<BoundMethod>;

class Value {
 public:
  using Storage = std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr, DictPtr,
                               NamespacePtr, CallablePtr, MethodPtr>;
  Value() : v_(Undefined{}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(None n) : v_(n) {}
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(ListPtr l) : v_(std::move(l)) {}
  Value(DictPtr d) : v_(std::move(d)) {}
  Value(NamespacePtr n) : v_(std::move(n)) {}
  Value(CallablePtr c) : v_(std::move(c)) {}
  Value(MethodPtr m) : v_(std::move(m)) {}

  // Throws RuntimeError when the list would nest deeper than kMaxValueDepth.
  static Value list(std::vector<Value> items = {}, bool tuple = false);
  static Value dict() { return Value(std::make_shared<Dict>()); }

  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_none() const { return std::holds_alternative<None>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<ListPtr>(v_); }
  bool is_dict() const { return std::holds_alternative<DictPtr>(v_); }
  bool is_namespace() const { return std::holds_alternative<NamespacePtr>(v_); }
  bool is_callable() const {
    return std::holds_alternative<CallablePtr>(v_) || std::holds_alternative<MethodPtr>(v_);
  }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  // Numeric value of a bool/int/float (Python's bool is an int).
  double to_double() const;
  const std::string& str() const { return std::get<std::string>(v_); }
  const List& list_ref() const { return *std::get<ListPtr>(v_); }
  const Dict& dict_ref() const { return *std::get<DictPtr>(v_); }
  Namespace& ns_ref() const { return *std::get<NamespacePtr>(v_); }
  const Callable& callable_ref() const { return *std::get<CallablePtr>(v_); }
  const BoundMethod& method_ref() const { return *std::get<MethodPtr>(v_); }
  const Undefined& undefined_ref() const { return std::get<Undefined>(v_); }
  const Storage& storage() const { return v_; }

  // Python truthiness (Undefined is falsy).
  bool truthy() const;
  // Python type name as used in error messages ("str", "dict object", ...).
  std::string type_name() const;

 private:
  Storage v_;
};

// str(v) as jinja2 renders it: None -> "None", True -> "True", 1.0 -> "1.0", lists/dicts via repr.
// Nesting depth: 0 for scalars, List/Dict::depth, a namespace's attributes + 1.
uint32_t value_depth(const Value& v);

std::string to_str(const Value& v);
void append_str(std::string& out, const Value& v);
// repr(v): strings quoted the way Python does.
std::string to_repr(const Value& v);
// Python's float repr (shortest round-trip digits, "1e+16" style exponents).
std::string float_repr(double d);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <; throws std::invalid_argument for unorderable types.
bool less_than(const Value& a, const Value& b);

// Python str helpers on UTF-8 strings (code point semantics).
bool py_isspace(uint32_t cp);
size_t utf8_length(std::string_view s);
std::vector<std::string_view> utf8_chars(std::string_view s);
std::string py_strip(std::string_view s, const Value& chars, bool left, bool right);

}  // namespace um::text::detail
