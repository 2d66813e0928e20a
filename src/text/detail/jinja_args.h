#pragma once
// Argument access for builtins: position i or keyword `name`, Python-style.
#include <string>

#include "text/detail/jinja_error.h"
#include "text/detail/jinja_value.h"

namespace um::text::detail {

// Returns the argument at position i (counting only the builtin's own arguments) or named `name`,
// or Undefined when it was not given. The reference stays valid while `a` lives, so need_str()'s
// result can be held for the whole builtin call.
inline const Value& arg(const CallArgs& a, size_t i, const char* name) {
  static const Value kUndefined;
  if (i < a.positional.size()) return a.positional[i];
  for (const auto& [k, v] : a.keyword) {
    if (k == name) return v;
  }
  return kUndefined;
}

inline bool given(const Value& v) { return !v.is_undefined(); }

inline const std::string& need_str(const Value& v, const char* what) {
  if (!v.is_string()) {
    throw RuntimeError(std::string(what) + " must be str, not " + v.type_name());
  }
  return v.str();
}

inline int64_t need_int(const Value& v, const char* what) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  throw RuntimeError(std::string(what) + " must be an integer, not " + v.type_name());
}

}  // namespace um::text::detail
