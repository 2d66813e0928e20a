#pragma once
// Python literal → JSON text, for the UCSD Steam / Amazon-2014-style files that hold one
// `repr()`-ed Python dict per line instead of JSON (e.g. {u'id': u'761140', u'price': 4.99,
// u'early_access': False}).
//
//   std::string json;
//   if (auto err = python_literal_to_json(line, json)) ...report *err...
//   simdjson parse json ...
//
// Accepted (what ast.literal_eval accepts for data files): dicts, lists, tuples (→ arrays),
// strings with '...' or "..." quotes and optional u/b/r prefixes (any case), adjacent string
// literals (concatenated), escapes \\ \' \" \n \r \t \b \f \v \a \0-\777 (octal) \xhh \uXXXX
// \UXXXXXXXX and backslash-newline; UTF-16 surrogate pairs written as two \u escapes (Python 2
// narrow-build repr) are joined, lone surrogates become U+FFFD; an unknown escape keeps its
// backslash, as Python does. Integers (also Python 2 longs "10L"), floats, True/False/None, and
// JSON's true/false/null (so strict JSON lines pass through). Dict keys that are numbers, booleans
// or None are written as JSON strings ("1", "True", "None"). Not accepted (returns an error):
// sets, complex numbers, nan/inf (not literals), \N{...} escapes, trailing garbage.
#include <optional>
#include <string>
#include <string_view>

namespace um::data {

// Appends the JSON form of `text` to `out` (cleared first). Returns nullopt on success, or a short
// error message naming the byte offset.
std::optional<std::string> python_literal_to_json(std::string_view text, std::string& out);

}  // namespace um::data
