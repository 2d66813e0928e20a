#pragma once
// Template errors carry the template's origin (e.g. ".../tokenizer_config.json") and the line and
// column inside the template text, which is where a user has to look.
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

}  // namespace um::text::detail
