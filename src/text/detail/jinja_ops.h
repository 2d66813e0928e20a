#pragma once
// Python semantics of jinja2's operators, attribute/item access and iteration. Failures throw
// RuntimeError (the interpreter adds the template position).
#include <string>
#include <vector>

#include "text/detail/jinja_value.h"

namespace um::text::detail {

// op is one of + - * / // % ** ~
Value binary_op(const std::string& op, const Value& a, const Value& b);
// op is one of == != < > <= >= in notin
bool compare_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& needle);
Value negate(const Value& v);

// jinja2's environment.getattr / getitem (sandboxed: only data and whitelisted methods).
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// Items of `for x in v`: list items, dict keys, string characters; Undefined yields nothing.
std::vector<Value> iterate(const Value& v);
// len(v) for strings (code points), lists, dicts; throws for other types.
int64_t length_of(const Value& v);
[[noreturn]] void fail_undefined(const Value& v);

// Methods of str, dict and list that real templates call (startswith, items, get, ...).
bool has_method(const Value& self, const std::string& name);
Value call_method(const Value& self, const std::string& name, CallArgs& args);

// JSON (transformers' tojson: json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)).
std::string to_json(const Value& v, const Value& indent, const Value& separators, bool sort_keys,
                    bool ensure_ascii = false);

// Names of the filters and tests this interpreter implements (unknown ones fail at parse time, as in
// jinja2).
bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

}  // namespace um::text::detail
