#pragma once
// Tree-walking renderer. One Interpreter renders one template once; it holds the variable scopes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "text/detail/jinja_ast.h"
#include "text/detail/jinja_value.h"

namespace um::text::detail {

// Budgets of one render (JinjaTemplate::Limits documents them).
struct RenderLimits {
  int max_depth = 500;                          // nested expressions, statements and macro calls together
  int64_t max_steps = 1'000'000;                // loop iterations plus macro calls
  size_t max_output_bytes = size_t{32} << 20;   // the output and any string or container built on the way
  uint64_t max_work_bytes = uint64_t{1} << 30;  // bytes of all values expressions produced, summed
};

class Interpreter {
 public:
  using Frame = std::vector<std::pair<std::string, Value>>;

  // `globals` are the render variables plus builtin functions; `origin` names the template in errors.
  Interpreter(const std::string& origin, Frame globals, RenderLimits limits = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  void render(const Body& body, std::string& out);

  Value eval(const Expr& e);
  Value call(const Value& callee, CallArgs& args);
  Value call_macro(const Stmt& macro, CallArgs& args, const Value& caller);
  // Applies a filter by name (used by the map/select filters as well as `|`).
  Value filter(const std::string& name, const Value& v, CallArgs& args);
  bool test(const std::string& name, const Value& v, CallArgs& args);
  const std::string& origin() const { return origin_; }
  // Renders a {% call %} block's body for `caller()`.
  Value call_block(const Body& body);

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

  // Budget accounting: one step per loop iteration and macro call; depth while a nested
  // evaluation runs (RuntimeError beyond the limits, reported at the template position).
  void step();
  void charge(const Value& v);
  struct Nest {
    explicit Nest(Interpreter& in);
    ~Nest() { --in_.depth_; }
    Interpreter& in_;
  };

  std::string origin_;
  std::vector<Frame> frames_;
  RenderLimits limits_;
  int depth_ = 0;
  int64_t steps_ = 0;
  uint64_t work_ = 0;
  size_t saved_max_bytes_;
};

}  // namespace um::text::detail
