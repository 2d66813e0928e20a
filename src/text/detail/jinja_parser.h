#pragma once
// Tokens -> syntax tree, following jinja2's grammar and operator precedence (jinja2/parser.py).
#include <string>
#include <vector>

#include "text/detail/jinja_ast.h"
#include "text/detail/jinja_lexer.h"

namespace um::text::detail {

// Throws util::Error with the template line and column of the offending token.
Body parse_template(std::vector<Token> tokens, const std::string& name);

}  // namespace um::text::detail
