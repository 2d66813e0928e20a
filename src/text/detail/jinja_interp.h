#pragma once
// Tree-walking renderer. One Interpreter renders one template once; it holds the variable scopes.
#include <string>
#include <utility>
#include <vector>

#include "text/detail/jinja_ast.h"
#include "text/detail/jinja_value.h"

namespace um::text::detail {

class Interpreter {
 public:
  using Frame = std::vector<std::pair<std::string, Value>>;

  // `globals` are the render variables plus builtin functions; `origin` names the template in errors.
  Interpreter(const std::string& origin, Frame globals);

  void render(const Body& body, std::string& out);

  Value eval(const Expr& e);
  Value call(const Value& callee, CallArgs& args);
  Value call_macro(const Stmt& macro, CallArgs& args, const Value& caller);
  // Applies a filter by name (used by the map/select filters as well as `|`).
  Value filter(const std::string& name, const Value& v, CallArgs& args);
  bool test(const std::string& name, const Value& v, CallArgs& args);
  const std::string& origin() const { return origin_; }

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec(const Body& body, std::string& out);
  Flow exec_stmt(const Stmt& s, std::string& out);
  Flow exec_for(const Stmt& s, std::string& out);
  void assign(const std::vector<std::string>& targets, const Value& v);
  void set_var(const std::string& name, Value v);
  Value lookup(const std::string& name) const;
  Value eval_inner(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_filter_chain(const Expr& e, const Value* input);
  void eval_args(const Expr& e, size_t first, CallArgs& out);

  std::string origin_;
  std::vector<Frame> frames_;
};

}  // namespace um::text::detail
