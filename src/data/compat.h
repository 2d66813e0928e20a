#pragma once
// Compat: which behaviour to follow where usermirror deliberately differs from the authors' Python
// reference (docs/reference-differences.md, column "--compat reference"). One value, passed down with
// each stage's options (prepare, scenes, distil, evaluate, train, run configs); never global.
// Where a behaviour has its own option, Compat only changes that option's default: an explicit
// option still wins.
#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace um::data {

enum class Compat {
  usermirror,  // our decisions (the default)
  reference,   // the reference's behaviour wherever it can be reproduced
};

inline const char* compat_name(Compat c) { return c == Compat::reference ? "reference" : "usermirror"; }

// "usermirror" or "reference"; util::Error naming `where` otherwise.
inline Compat parse_compat(std::string_view text, const util::Location& where = {.field = "compat"}) {
  if (text == "reference") return Compat::reference;
  if (text == "usermirror") return Compat::usermirror;
  throw util::Error("unknown compat '" + std::string(text) + "' (expected usermirror or reference)", where);
}

// An option with its own explicit value, else the compat default.
inline bool resolve(const std::optional<bool>& option, Compat compat) {
  return option.value_or(compat == Compat::reference);
}

}  // namespace um::data
