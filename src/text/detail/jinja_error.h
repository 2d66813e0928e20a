#pragma once
// Template errors carry the template's origin (e.g. ".../tokenizer_config.json") and the line and
// column inside the template text, which is where a user has to look.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "util/error.h"

namespace um::text::detail {

[[noreturn]] inline void template_error(const std::string& origin, int line, int col,
                                        const std::string& msg) {
  throw util::Error("template line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg,
                    {.file = origin, .field = "chat_template"});
}

}  // namespace um::text::detail

namespace um::text::detail {

// Raised by value operations and builtins that do not know where they are in the template; the
// interpreter catches it at the enclosing expression and re-raises it with line and column.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised by raise_exception(); carries the template author's message unchanged.
class RaisedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The size budget of the render running on this thread (JinjaTemplate::Limits::max_output_bytes;
// set by the interpreter for the duration of a render). Operations that can grow a string or list
// by a large factor in one step (repetition, replace, indent, join, concatenation, tojson, str of a
// container) check the size they are about to produce, so a hostile template fails with a
// RuntimeError instead of exhausting memory.
inline thread_local size_t t_max_value_bytes = size_t{32} << 20;
inline void check_value_bytes(size_t bytes) {
  if (bytes > t_max_value_bytes) {
    throw RuntimeError("a string of " + std::to_string(bytes) +
                       " bytes would exceed the template size budget of " +
                       std::to_string(t_max_value_bytes) + " bytes");
  }
}
// Overflow-safe a * b for size checks.
inline size_t saturating_mul(size_t a, size_t b) {
  if (a != 0 && b > SIZE_MAX / a) return SIZE_MAX;
  return a * b;
}
// Lists and dicts nest at most this deep (printing, comparing and destroying values recurse).
inline constexpr uint32_t kMaxValueDepth = 200;

}  // namespace um::text::detail
