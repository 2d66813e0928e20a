#pragma once
// Python's single-character string escapes (\\ \' \" \a \b \f \n \r \t \v and a backslash-newline line
// continuation), shared by the Jinja lexer and the reader of Python string literals (prompt import).
#include <string>

namespace um::text::detail {

// Appends what `\<e>` stands for and returns true, or returns false (out unchanged) when `e` is not a
// single-character escape (\x, \u, \U, octal digits and unknown escapes are the caller's).
inline bool append_simple_escape(char e, std::string& out) {
  switch (e) {
    case '\n':
      return true;  // line continuation
    case '\\':
      out += '\\';
      return true;
    case '\'':
      out += '\'';
      return true;
    case '"':
      out += '"';
      return true;
    case 'a':
      out += '\a';
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'v':
      out += '\v';
      return true;
    default:
      return false;
  }
}

}  // namespace um::text::detail
