#pragma once
// Python str()/repr() of JSON values, as the reference's templates render them (docs/method.md §3.2,
// §11.15): floats in shortest round-trip form with ".0" (4.0), null → None, booleans → True/False,
// lists and dicts as Python literals with repr()-quoted strings (['a', "it's"]).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace um::scene {

// Appends str(v): strings verbatim, everything else as repr.
void append_py_str(std::string& out, const nlohmann::json& v);
// Appends repr(v).
void append_py_repr(std::string& out, const nlohmann::json& v);
// Appends repr() of a string: single quotes unless the text holds ' and no ", backslash escapes
// for the quote, \\, \t \n \r, \xhh / \uhhhh / \Uhhhhhhhh for non-printable code points.
void append_py_repr_string(std::string& out, std::string_view s);

std::string py_str(const nlohmann::json& v);

// Python truthiness (None, False, 0, 0.0, "", [], {} are falsy).
bool py_truthy(const nlohmann::json& v);

}  // namespace um::scene
