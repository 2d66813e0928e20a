#pragma once
// Syntax tree of a template. Nodes are immutable after parsing; rendering only reads them, so one
// parsed template can be rendered from many threads at once.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/detail/jinja_value.h"

namespace um::text::detail {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  Literal,   // literal
  Name,      // name
  List,      // args
  Tuple,     // args
  Dict,      // kwargs (key expr in args[2i], value in args[2i+1])
  Attr,      // args[0].name
  Item,      // args[0][args[1]]
  Slice,     // args[0][args[1]:args[2]:args[3]] (null = omitted)
  Call,      // args[0](args[1..], kwargs)
  Filter,    // name(args[0], args[1..], kwargs); args[0] null inside {% filter %}
  Test,      // args[0] is name(args[1..])
  Neg,       // -args[0]
  Pos,       // +args[0]
  Not,       // not args[0]
  And,       // args[0] and args[1]
  Or,        // args[0] or args[1]
  Binary,    // args[0] <name> args[1]: + - * / // % ** ~
  Compare,   // args[0] ops[0] args[1] ops[1] args[2] ...
  CondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  int col = 0;
  std::string name;
  Value literal;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;

  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  // Iterative: a long chain such as a ~ b ~ c ~ ... (one node per link, built by a loop in the
  // parser) would otherwise be destroyed by one nested call per link and overflow the stack.
  ~Expr() {
    std::vector<ExprPtr> pending;
    auto detach = [&pending](Expr& e) {
      for (auto& a : e.args)
        if (a) pending.push_back(std::move(a));
      for (auto& kv : e.kwargs)
        if (kv.second) pending.push_back(std::move(kv.second));
    };
    detach(*this);
    while (!pending.empty()) {
      ExprPtr e = std::move(pending.back());
      pending.pop_back();
      detach(*e);
    }  // each node is destroyed here with no children left
  }
};

enum class StmtKind {
  Text,         // text
  Output,       // {{ expr }}
  If,           // conds[i] -> bodies[i]; bodies.size() == conds.size() + 1 when there is an else
  For,          // for targets in expr [if cond]: bodies[0] else bodies[1]
  Set,          // targets = expr, or ns_attr set: targets[0].attr = expr
  SetBlock,     // {% set targets[0] %}bodies[0]{% endset %} (filters applied via expr, may be null)
  Macro,        // {% macro name(params) %}bodies[0]
  CallBlock,    // {% call expr %}bodies[0] : expr is a Call whose callee gets `caller`
  FilterBlock,  // {% filter expr %}bodies[0]
  Break,
  Continue,
  Scope,  // bodies[0] rendered inline ({% generation %}, {% with %} without assignments)
  With,   // {% with targets = values %}bodies[0]
  Do,     // {% do expr %}
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  int col = 0;
  std::string text;
  std::string attr;  // Set with namespace attribute target
  std::vector<std::string> targets;
  ExprPtr expr;
  ExprPtr cond;                // For: filter condition
  std::vector<ExprPtr> conds;  // If
  std::vector<Body> bodies;
  std::vector<std::pair<std::string, ExprPtr>> params;  // Macro (default may be null), With
};

}  // namespace um::text::detail
