#pragma once
// Template source -> tokens, applying jinja2's whitespace control exactly as transformers configures
// it (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, newlines normalised to \n).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace um::text::detail {

enum class TokKind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  TokKind kind;
  std::string value;  // text data, name, decoded string literal or operator
  int64_t ival = 0;
  double fval = 0.0;
  int line = 1;  // 1-based
  int col = 1;   // 1-based, in bytes
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws util::Error (with template name, line and column) on malformed input.
std::vector<Token> lex_template(std::string_view source, const std::string& name,
                                const LexOptions& opts = {});

}  // namespace um::text::detail
