#include "text/detail/jinja_parser.h"

#include <initializer_list>

#include "text/detail/jinja_error.h"
#include "text/detail/jinja_ops.h"

namespace um::text::detail {
namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& name) : toks_(std::move(tokens)), name_(name) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().kind != TokKind::Eof) fail(cur(), "unexpected '" + cur().value + "'");
    return body;
  }

 private:
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }

  [[noreturn]] void fail(const Token& t, const std::string& msg) const {
    template_error(name_, t.line, t.col, msg);
  }

  // The parser recurses for nested blocks, brackets and prefix operators: a hostile template
  // nesting thousands of them would overflow the stack, so nesting has a budget.
  static constexpr int kMaxNesting = 300;
  struct Nest {
    explicit Nest(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxNesting) {
        --p_.nesting_;
        p_.fail(p_.cur(), "blocks and expressions nest deeper than " + std::to_string(kMaxNesting) +
                              " levels (nesting budget)");
      }
    }
    ~Nest() { --p_.nesting_; }
    Parser& p_;
  };
  int nesting_ = 0;

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokKind::Eof:
        return "end of template";
      case TokKind::VarEnd:
        return "end of print statement";
      case TokKind::BlockEnd:
        return "end of statement block";
      case TokKind::Text:
        return "template data";
      default:
        return "'" + t.value + "'";
    }
  }

  bool is_op(const char* op) const { return cur().kind == TokKind::Op && cur().value == op; }
  bool is_name(const char* n) const { return cur().kind == TokKind::Name && cur().value == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(cur(), std::string("expected '") + op + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != TokKind::Name) fail(cur(), "expected a name, got " + describe(cur()));
    std::string n = cur().value;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokKind::BlockEnd)
      fail(cur(), "expected end of statement block, got " + describe(cur()));
    advance();
  }

  ExprPtr node(ExprKind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  StmtPtr stmt(StmtKind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  // ---- statements ----

  // Parses until a block whose first name is in `ends` (left unconsumed, positioned at that name).
  Body parse_body(std::initializer_list<const char*> ends) {
    Nest nest(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokKind::Eof) {
        if (ends.size() != 0) {
          std::string want;
          for (const char* e : ends) want += (want.empty() ? "'" : " or '") + std::string(e) + "'";
          fail(t, "unexpected end of template, expected " + want);
        }
        return body;
      }
      if (t.kind == TokKind::Text) {
        auto s = stmt(StmtKind::Text, t);
        s->text = t.value;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == TokKind::VarBegin) {
        advance();
        auto s = stmt(StmtKind::Output, cur());
        s->expr = parse_tuple(true);
        if (cur().kind != TokKind::VarEnd)
          fail(cur(), "expected end of print statement, got " + describe(cur()));
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == TokKind::BlockBegin) {
        const Token& kw = peek();
        if (kw.kind == TokKind::Name) {
          for (const char* e : ends) {
            if (kw.value == e) {
              advance();
              return body;
            }
          }
        }
        advance();
        body.push_back(parse_statement());
      } else {
        fail(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    if (t.kind != TokKind::Name) fail(t, "tag name expected");
    const std::string kw = t.value;
    if (kw == "if") return parse_if();
    if (kw == "for") return parse_for();
    if (kw == "set") return parse_set();
    if (kw == "macro") return parse_macro();
    if (kw == "filter") return parse_filter_block();
    if (kw == "call") return parse_call_block();
    if (kw == "with") return parse_with();
    if (kw == "generation") {
      auto s = stmt(StmtKind::Scope, t);
      advance();
      expect_block_end();
      s->bodies.push_back(parse_body({"endgeneration"}));
      advance();
      expect_block_end();
      return s;
    }
    if (kw == "break" || kw == "continue") {
      if (loop_depth_ == 0) fail(t, "'" + kw + "' outside of a loop");
      auto s = stmt(kw == "break" ? StmtKind::Break : StmtKind::Continue, t);
      advance();
      expect_block_end();
      return s;
    }
    if (kw == "do") {
      auto s = stmt(StmtKind::Do, t);
      advance();
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (kw == "include" || kw == "extends" || kw == "import" || kw == "from" || kw == "block") {
      fail(t, "'" + kw + "' is not supported in chat templates (no template loader)");
    }
    fail(t, "Encountered unknown tag '" + kw + "'");
  }

  StmtPtr parse_if() {
    auto s = stmt(StmtKind::If, cur());
    advance();
    s->conds.push_back(parse_tuple(true));
    expect_block_end();
    while (true) {
      s->bodies.push_back(parse_body({"elif", "else", "endif"}));
      std::string which = cur().value;
      advance();
      if (which == "elif") {
        s->conds.push_back(parse_tuple(true));
        expect_block_end();
      } else if (which == "else") {
        expect_block_end();
        s->bodies.push_back(parse_body({"endif"}));
        advance();
        expect_block_end();
        return s;
      } else {
        expect_block_end();
        return s;
      }
    }
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    bool paren = skip_op("(");
    do {
      names.push_back(expect_name());
    } while (skip_op(","));
    if (paren) expect_op(")");
    return names;
  }

  StmtPtr parse_for() {
    auto s = stmt(StmtKind::For, cur());
    advance();
    s->targets = parse_targets();
    if (!skip_name("in")) fail(cur(), "expected 'in', got " + describe(cur()));
    s->expr = parse_tuple(false, /*stop_at_if=*/true);
    if (skip_name("if")) s->cond = parse_expression(true);
    if (is_name("recursive")) fail(cur(), "recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->bodies.push_back(parse_body({"endfor", "else"}));
    --loop_depth_;
    std::string which = cur().value;
    advance();
    expect_block_end();
    if (which == "else") {
      s->bodies.push_back(parse_body({"endfor"}));
      advance();
      expect_block_end();
    }
    return s;
  }

  StmtPtr parse_set() {
    const Token& at = cur();
    advance();
    std::vector<std::string> targets;
    std::string attr;
    if (cur().kind == TokKind::Name && peek().kind == TokKind::Op && peek().value == ".") {
      targets.push_back(expect_name());
      advance();
      attr = expect_name();
    } else {
      targets = parse_targets();
    }
    if (skip_op("=")) {
      auto s = stmt(StmtKind::Set, at);
      s->targets = std::move(targets);
      s->attr = std::move(attr);
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (!attr.empty() || targets.size() != 1) fail(cur(), "expected '='");
    auto s = stmt(StmtKind::SetBlock, at);
    s->targets = std::move(targets);
    if (is_op("|")) s->expr = parse_filter(nullptr);
    expect_block_end();
    s->bodies.push_back(parse_body({"endset"}));
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_macro() {
    auto s = stmt(StmtKind::Macro, cur());
    advance();
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      if (is_op(")")) break;
      std::string p = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression(true);
      s->params.emplace_back(std::move(p), std::move(def));
    }
    advance();
    expect_block_end();
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_body({"endmacro"}));
    loop_depth_ = saved;
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = stmt(StmtKind::FilterBlock, cur());
    advance();
    s->expr = parse_filter(nullptr, /*start_inline=*/true);
    expect_block_end();
    s->bodies.push_back(parse_body({"endfilter"}));
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = stmt(StmtKind::CallBlock, cur());
    advance();
    if (is_op("(")) fail(cur(), "call blocks with caller arguments are not supported");
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::Call) fail(cur(), "expected call");
    expect_block_end();
    s->bodies.push_back(parse_body({"endcall"}));
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_with() {
    auto s = stmt(StmtKind::With, cur());
    advance();
    while (cur().kind != TokKind::BlockEnd) {
      if (!s->params.empty()) expect_op(",");
      std::string n = expect_name();
      expect_op("=");
      s->params.emplace_back(std::move(n), parse_expression(true));
    }
    expect_block_end();
    s->bodies.push_back(parse_body({"endwith"}));
    advance();
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  bool at_tuple_end(bool stop_at_if) const {
    const Token& t = cur();
    if (t.kind == TokKind::VarEnd || t.kind == TokKind::BlockEnd || t.kind == TokKind::Eof) return true;
    if (t.kind == TokKind::Op && (t.value == ")" || t.value == "]" || t.value == "}")) return true;
    if (stop_at_if && t.kind == TokKind::Name && (t.value == "if" || t.value == "recursive")) return true;
    return false;
  }

  // `a, b` without parentheses is a tuple (jinja2's parse_tuple).
  ExprPtr parse_tuple(bool with_condexpr, bool stop_at_if = false, bool explicit_parens = false) {
    Nest nest(*this);
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) {
        if (!skip_op(",")) break;
        is_tuple = true;
      }
      if (at_tuple_end(stop_at_if)) break;
      items.push_back(with_condexpr ? parse_expression(true) : parse_or());
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail(cur(), "Expected an expression, got " + describe(cur()));
    }
    auto e = node(ExprKind::Tuple, at);
    e->args = std::move(items);
    return e;
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    Nest nest(*this);
    ExprPtr expr1 = parse_or();
    while (is_name("if")) {
      const Token& at = cur();
      advance();
      ExprPtr cond = parse_or();
      ExprPtr other;
      if (skip_name("else")) other = parse_condexpr();
      auto e = node(ExprKind::CondExpr, at);
      e->args.push_back(std::move(cond));
      e->args.push_back(std::move(expr1));
      e->args.push_back(std::move(other));
      expr1 = std::move(e);
    }
    return expr1;
  }

  ExprPtr binary(ExprKind kind, const Token& at, ExprPtr l, ExprPtr r, std::string op = {}) {
    auto e = node(kind, at);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::Or, at, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::And, at, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    Nest nest(*this);
    if (is_name("not")) {
      auto e = node(ExprKind::Not, cur());
      advance();
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokKind::Op && (t.value == "==" || t.value == "!=" || t.value == "<" || t.value == ">" ||
                                    t.value == "<=" || t.value == ">=")) {
        ops.push_back(t.value);
        advance();
      } else if (is_name("in")) {
        ops.push_back("in");
        advance();
      } else if (is_name("not") && peek().kind == TokKind::Name && peek().value == "in") {
        ops.push_back("notin");
        advance();
        advance();
      } else {
        break;
      }
      operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = node(ExprKind::Compare, at);
    e->args.push_back(std::move(first));
    for (auto& o : operands) e->args.push_back(std::move(o));
    e->ops = std::move(ops);
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::Binary, at, std::move(left), parse_concat(), at.value);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::Binary, at, std::move(left), parse_math2(), "~");
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::Binary, at, std::move(left), parse_pow(), at.value);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      Token at = cur();
      advance();
      left = binary(ExprKind::Binary, at, std::move(left), parse_unary(true), "**");
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nest nest(*this);
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      n = node(is_op("-") ? ExprKind::Neg : ExprKind::Pos, cur());
      advance();
      n->args.push_back(parse_unary(false));
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  ExprPtr literal(const Token& at, Value v) {
    auto e = node(ExprKind::Literal, at);
    e->literal = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    Token t = cur();
    switch (t.kind) {
      case TokKind::Name: {
        advance();
        if (t.value == "true" || t.value == "True") return literal(t, Value(true));
        if (t.value == "false" || t.value == "False") return literal(t, Value(false));
        if (t.value == "none" || t.value == "None") return literal(t, Value(None{}));
        auto e = node(ExprKind::Name, t);
        e->name = t.value;
        return e;
      }
      case TokKind::String: {
        std::string s = t.value;
        advance();
        while (cur().kind == TokKind::String) {
          s += cur().value;
          advance();
        }
        return literal(t, Value(std::move(s)));
      }
      case TokKind::Int:
        advance();
        return literal(t, Value(t.ival));
      case TokKind::Float:
        advance();
        return literal(t, Value(t.fval));
      case TokKind::Op:
        if (t.value == "(") {
          advance();
          ExprPtr e = parse_tuple(true, false, true);
          expect_op(")");
          return e;
        }
        if (t.value == "[") {
          advance();
          auto e = node(ExprKind::List, t);
          while (!is_op("]")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op("]")) break;
            e->args.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        if (t.value == "{") {
          advance();
          auto e = node(ExprKind::Dict, t);
          while (!is_op("}")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op("}")) break;
            e->args.push_back(parse_expression(true));
            expect_op(":");
            e->args.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        break;
      default:
        break;
    }
    fail(t, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr n) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        n = parse_subscript(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr n) {
    while (true) {
      if (is_op("|")) {
        n = parse_filter(std::move(n));
      } else if (is_name("is")) {
        n = parse_test(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr n) {
    Token t = cur();
    advance();
    if (t.value == ".") {
      if (cur().kind == TokKind::Name) {
        auto e = node(ExprKind::Attr, t);
        e->name = cur().value;
        advance();
        e->args.push_back(std::move(n));
        return e;
      }
      if (cur().kind == TokKind::Int) {
        auto e = node(ExprKind::Item, t);
        e->args.push_back(std::move(n));
        e->args.push_back(literal(cur(), Value(cur().ival)));
        advance();
        return e;
      }
      fail(cur(), "expected name or number");
    }
    // '[' subscript: expression or slice
    ExprPtr parts[3];
    int colons = 0;
    bool is_slice = false;
    while (!is_op("]")) {
      if (skip_op(":")) {
        is_slice = true;
        if (++colons > 2) fail(cur(), "invalid slice");
        continue;
      }
      if (parts[colons]) fail(cur(), "expected ']', got " + describe(cur()));
      parts[colons] = parse_expression(true);
      if (is_op(",")) fail(cur(), "tuple subscripts are not supported");
    }
    advance();
    if (!is_slice) {
      if (!parts[0]) fail(t, "expected an expression in subscript");
      auto e = node(ExprKind::Item, t);
      e->args.push_back(std::move(n));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = node(ExprKind::Slice, t);
    e->args.push_back(std::move(n));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail(cur(), "*args / **kwargs in calls are not supported");
      if (cur().kind == TokKind::Name && peek().kind == TokKind::Op && peek().value == "=") {
        std::string key = cur().value;
        advance();
        advance();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e.kwargs.empty()) fail(cur(), "positional argument follows keyword argument");
        e.args.push_back(parse_expression(true));
      }
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = node(ExprKind::Call, cur());
    e->line = callee->line;  // errors point at the start of `f(...)`, not at the parenthesis
    e->col = callee->col;
    e->args.push_back(std::move(callee));
    parse_call_args(*e);
    return e;
  }

  std::string parse_dotted_name() {
    std::string n = expect_name();
    while (is_op(".")) {
      advance();
      n += "." + expect_name();
    }
    return n;
  }

  // Parses `| f(args) | g ...`; with start_inline the first filter has no leading pipe.
  ExprPtr parse_filter(ExprPtr n, bool start_inline = false) {
    while (is_op("|") || start_inline) {
      if (!start_inline) advance();
      start_inline = false;
      Token at = cur();
      auto e = node(ExprKind::Filter, at);
      e->name = parse_dotted_name();
      if (!is_known_filter(e->name)) fail(at, "No filter named '" + e->name + "'.");
      e->args.push_back(std::move(n));
      if (is_op("(")) parse_call_args(*e);
      n = std::move(e);
    }
    return n;
  }

  ExprPtr parse_test(ExprPtr n) {
    Token at = cur();
    advance();
    bool negated = skip_name("not");
    auto e = node(ExprKind::Test, at);
    Token name_at = cur();
    e->name = parse_dotted_name();
    if (!is_known_test(e->name)) fail(name_at, "No test named '" + e->name + "'.");
    e->args.push_back(std::move(n));
    const Token& t = cur();
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t.kind == TokKind::Name || t.kind == TokKind::String || t.kind == TokKind::Int ||
                t.kind == TokKind::Float || is_op("[") || is_op("{")) &&
               !(t.kind == TokKind::Name && (t.value == "else" || t.value == "or" || t.value == "and"))) {
      if (is_name("is")) fail(t, "You cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    if (!negated) return e;
    auto notn = node(ExprKind::Not, at);
    notn->args.push_back(std::move(e));
    return notn;
  }

  std::vector<Token> toks_;
  std::string name_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::vector<Token> tokens, const std::string& name) {
  Parser p(std::move(tokens), name);
  return p.parse_all();
}

}  // namespace um::text::detail
