#include "text/detail/jinja_interp.h"

#include <new>
#include <stdexcept>

#include "text/detail/jinja_error.h"
#include "text/detail/jinja_ops.h"

namespace um::text::detail {

Interpreter::Interpreter(const std::string& origin, Frame globals, RenderLimits limits)
    : origin_(origin), limits_(limits), saved_max_bytes_(t_max_value_bytes) {
  frames_.push_back(std::move(globals));
  frames_.emplace_back();
  t_max_value_bytes = limits_.max_output_bytes;
}

Interpreter::~Interpreter() { t_max_value_bytes = saved_max_bytes_; }

void Interpreter::render(const Body& body, std::string& out) { exec(body, out); }

void Interpreter::step() {
  if (++steps_ > limits_.max_steps) {
    throw RuntimeError("the template ran more than " + std::to_string(limits_.max_steps) +
                       " loop iterations and macro calls (step budget)");
  }
}

// Every value an expression produces is charged: strings by their bytes, lists and dicts by 8 bytes
// per entry. A few steps over huge strings (each within the size budget) stop here instead of
// running for hours.
void Interpreter::charge(const Value& v) {
  if (v.is_string()) {
    work_ += v.str().size();
  } else if (v.is_list()) {
    work_ += 8 * v.list_ref().items.size();
  } else if (v.is_dict()) {
    work_ += 8 * v.dict_ref().items.size();
  } else {
    return;
  }
  if (work_ > limits_.max_work_bytes) {
    throw RuntimeError("the template built more than " + std::to_string(limits_.max_work_bytes) +
                       " bytes of values (work budget)");
  }
}

Interpreter::Nest::Nest(Interpreter& in) : in_(in) {
  if (++in_.depth_ > in_.limits_.max_depth) {
    --in_.depth_;
    throw RuntimeError("expressions, blocks and macro calls nest deeper than " +
                       std::to_string(in_.limits_.max_depth) + " levels (recursion budget)");
  }
}

Value Interpreter::call_block(const Body& body) {
  step();
  Nest nest(*this);
  std::string buf;
  exec(body, buf);
  return Value(std::move(buf));
}

Value Interpreter::lookup(const std::string& name) const {
  for (auto f = frames_.rbegin(); f != frames_.rend(); ++f) {
    for (const auto& [k, v] : *f) {
      if (k == name) return v;
    }
  }
  return Undefined{"'" + name + "' is undefined"};
}

void Interpreter::set_var(const std::string& name, Value v) {
  Frame& f = frames_.back();
  for (auto& [k, old] : f) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  f.emplace_back(name, std::move(v));
}

void Interpreter::assign(const std::vector<std::string>& targets, const Value& v) {
  if (targets.size() == 1) {
    set_var(targets[0], v);
    return;
  }
  std::vector<Value> items = iterate(v);
  if (items.size() != targets.size()) {
    throw RuntimeError(items.size() < targets.size()
                           ? "not enough values to unpack (expected " + std::to_string(targets.size()) +
                                 ", got " + std::to_string(items.size()) + ")"
                           : "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) set_var(targets[i], items[i]);
}

Interpreter::Flow Interpreter::exec(const Body& body, std::string& out) {
  for (const auto& s : body) {
    check_value_bytes(out.size());
    Flow f = exec_stmt(*s, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, std::string& out) {
  try {
    Nest nest(*this);
    switch (s.kind) {
      case StmtKind::Text:
        check_value_bytes(out.size() + s.text.size());
        out += s.text;
        return Flow::Normal;
      case StmtKind::Output: {
        Value v = eval(*s.expr);
        append_str(out, v);
        return Flow::Normal;
      }
      case StmtKind::If:
        for (size_t i = 0; i < s.conds.size(); ++i) {
          if (eval(*s.conds[i]).truthy()) return exec(s.bodies[i], out);
        }
        if (s.bodies.size() > s.conds.size()) return exec(s.bodies.back(), out);
        return Flow::Normal;
      case StmtKind::For:
        return exec_for(s, out);
      case StmtKind::Set: {
        Value v = eval(*s.expr);
        if (!s.attr.empty()) {
          Value target = lookup(s.targets[0]);
          if (!target.is_namespace()) {
            throw RuntimeError("can only set attributes on namespace objects, not on '" + s.targets[0] + "'");
          }
          target.ns_ref().attrs.set(s.attr, std::move(v));
        } else {
          assign(s.targets, v);
        }
        return Flow::Normal;
      }
      case StmtKind::SetBlock: {
        std::string buf;
        exec(s.bodies[0], buf);
        Value v(std::move(buf));
        if (s.expr) v = eval_filter_chain(*s.expr, &v);
        set_var(s.targets[0], std::move(v));
        return Flow::Normal;
      }
      case StmtKind::Macro: {
        const Stmt* macro = &s;
        auto fn = std::make_shared<Callable>();
        fn->name = s.text;
        fn->fn = [macro](Interpreter& in, CallArgs& args) { return in.call_macro(*macro, args, Value()); };
        set_var(s.text, Value(std::move(fn)));
        return Flow::Normal;
      }
      case StmtKind::CallBlock: {
        const Stmt* block = &s;
        auto caller = std::make_shared<Callable>();
        caller->name = "caller";
        caller->fn = [block](Interpreter& in, CallArgs&) { return in.call_block(block->bodies[0]); };
        const Expr& call_expr = *s.expr;
        Value callee = eval(*call_expr.args[0]);
        CallArgs args;
        eval_args(call_expr, 1, args);
        args.keyword.emplace_back("caller", Value(std::move(caller)));
        append_str(out, call(callee, args));
        return Flow::Normal;
      }
      case StmtKind::FilterBlock: {
        std::string buf;
        exec(s.bodies[0], buf);
        Value v(std::move(buf));
        append_str(out, eval_filter_chain(*s.expr, &v));
        return Flow::Normal;
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
      case StmtKind::Scope:
        return exec(s.bodies[0], out);
      case StmtKind::With: {
        std::vector<Value> values;
        for (const auto& [name, e] : s.params) values.push_back(eval(*e));
        frames_.emplace_back();
        for (size_t i = 0; i < values.size(); ++i) set_var(s.params[i].first, values[i]);
        Flow f = exec(s.bodies[0], out);
        frames_.pop_back();
        return f;
      }
      case StmtKind::Do:
        eval(*s.expr);
        return Flow::Normal;
    }
  } catch (const RuntimeError& err) {
    template_error(origin_, s.line, s.col, err.what());
  } catch (const util::Error&) {
    throw;  // already names its template position
  } catch (const std::length_error& err) {
    template_error(origin_, s.line, s.col, std::string("value too large: ") + err.what());
  } catch (const std::bad_alloc&) {
    template_error(origin_, s.line, s.col, "out of memory while rendering");
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, std::string& out) {
  Value seq = eval(*s.expr);
  if (seq.is_none() || seq.is_number()) {
    throw RuntimeError("'" + seq.type_name() + "' object is not iterable");
  }
  std::vector<Value> items = iterate(seq);
  frames_.emplace_back();
  if (s.cond) {
    // Filtered loops: the condition sees the loop variables, and loop.length counts survivors.
    std::vector<Value> kept;
    for (auto& item : items) {
      step();
      assign(s.targets, item);
      if (eval(*s.cond).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
    frames_.back().clear();
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    step();
    assign(s.targets, items[static_cast<size_t>(i)]);
    auto loop = std::make_shared<Dict>();
    loop->items.reserve(11);
    loop->items.emplace_back("index", Value(i + 1));
    loop->items.emplace_back("index0", Value(i));
    loop->items.emplace_back("revindex", Value(n - i));
    loop->items.emplace_back("revindex0", Value(n - i - 1));
    loop->items.emplace_back("first", Value(i == 0));
    loop->items.emplace_back("last", Value(i == n - 1));
    loop->items.emplace_back("length", Value(n));
    loop->items.emplace_back("depth", Value(1));
    loop->items.emplace_back("depth0", Value(0));
    loop->items.emplace_back("previtem", i > 0 ? items[static_cast<size_t>(i - 1)]
                                               : Value(Undefined{"there is no previous item"}));
    loop->items.emplace_back("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)]
                                                   : Value(Undefined{"there is no next item"}));
    loop->update_depth();
    set_var("loop", Value(std::move(loop)));
    Flow f = exec(s.bodies[0], out);
    if (f == Flow::Break) break;
  }
  frames_.pop_back();
  if (n == 0 && s.bodies.size() > 1) return exec(s.bodies[1], out);
  return Flow::Normal;
}

Value Interpreter::call_macro(const Stmt& macro, CallArgs& args, const Value& caller) {
  step();
  Nest nest(*this);
  std::vector<Frame> saved;
  saved.swap(frames_);
  frames_.push_back(saved[0]);
  frames_.push_back(saved[1]);
  frames_.emplace_back();
  std::string buf;
  try {
    size_t np = macro.params.size();
    std::vector<Value> extra;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < np) {
        set_var(macro.params[i].first, args.positional[i]);
      } else {
        extra.push_back(args.positional[i]);
      }
    }
    auto kwargs = std::make_shared<Dict>();
    Value call_caller = caller;
    for (auto& [k, v] : args.keyword) {
      bool is_param = false;
      for (const auto& p : macro.params) is_param = is_param || p.first == k;
      if (k == "caller") {
        call_caller = v;
      } else if (is_param) {
        set_var(k, v);
      } else {
        kwargs->set(k, v);
      }
    }
    for (size_t i = args.positional.size(); i < np; ++i) {
      const auto& [name, def] = macro.params[i];
      bool given = false;
      for (const auto& kv : frames_.back()) given = given || kv.first == name;
      if (given) continue;
      set_var(name, def ? eval(*def) : Value(Undefined{"parameter '" + name + "' was not provided"}));
    }
    set_var("varargs", Value::list(std::move(extra), true));
    set_var("kwargs", Value(std::move(kwargs)));
    if (!call_caller.is_undefined()) set_var("caller", call_caller);
    exec(macro.bodies[0], buf);
  } catch (...) {
    frames_.swap(saved);
    throw;
  }
  frames_.swap(saved);
  return Value(std::move(buf));
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (std::holds_alternative<CallablePtr>(callee.storage())) {
    return callee.callable_ref().fn(*this, args);
  }
  if (std::holds_alternative<MethodPtr>(callee.storage())) {
    const BoundMethod& m = callee.method_ref();
    return call_method(*m.self, m.name, args);
  }
  if (callee.is_undefined()) fail_undefined(callee);
  throw RuntimeError("'" + callee.type_name() + "' object is not callable");
}

void Interpreter::eval_args(const Expr& e, size_t first, CallArgs& out) {
  for (size_t i = first; i < e.args.size(); ++i) out.positional.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) out.keyword.emplace_back(k, eval(*v));
}

Value Interpreter::eval(const Expr& e) {
  try {
    Nest nest(*this);
    Value v = eval_inner(e);
    charge(v);
    return v;
  } catch (const RuntimeError& err) {
    template_error(origin_, e.line, e.col, err.what());
  } catch (const RaisedError& err) {
    template_error(origin_, e.line, e.col, std::string("raise_exception: ") + err.what());
  }
}

Value Interpreter::eval_call(const Expr& e) {
  const Expr& callee = *e.args[0];
  CallArgs args;
  if (callee.kind == ExprKind::Attr) {
    Value self = eval(*callee.args[0]);
    if (has_method(self, callee.name)) {
      eval_args(e, 1, args);
      return call_method(self, callee.name, args);
    }
    Value fn = get_attr(self, callee.name);
    eval_args(e, 1, args);
    return call(fn, args);
  }
  Value fn = eval(callee);
  eval_args(e, 1, args);
  return call(fn, args);
}

Value Interpreter::eval_filter_chain(const Expr& e, const Value* input) {
  Nest nest(*this);
  Value v = e.args[0] ? (e.args[0]->kind == ExprKind::Filter ? eval_filter_chain(*e.args[0], input)
                                                             : eval(*e.args[0]))
                      : *input;
  CallArgs args;
  eval_args(e, 1, args);
  try {
    return filter(e.name, v, args);
  } catch (const RuntimeError& err) {
    template_error(origin_, e.line, e.col, err.what());
  }
}

Value Interpreter::eval_inner(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Literal:
      return e.literal;
    case ExprKind::Name:
      return lookup(e.name);
    case ExprKind::List:
    case ExprKind::Tuple: {
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::list(std::move(items), e.kind == ExprKind::Tuple);
    }
    case ExprKind::Dict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        if (!k.is_string()) throw RuntimeError("only string keys are supported in dict literals");
        d->set(k.str(), eval(*e.args[i + 1]));
      }
      return Value(std::move(d));
    }
    case ExprKind::Attr:
      return get_attr(eval(*e.args[0]), e.name);
    case ExprKind::Item:
      return get_item(eval(*e.args[0]), eval(*e.args[1]));
    case ExprKind::Slice: {
      Value obj = eval(*e.args[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i) parts[i] = e.args[1 + i] ? eval(*e.args[1 + i]) : Value(None{});
      return get_slice(obj, parts[0], parts[1], parts[2]);
    }
    case ExprKind::Call:
      return eval_call(e);
    case ExprKind::Filter:
      return eval_filter_chain(e, nullptr);
    case ExprKind::Test: {
      Value v = eval(*e.args[0]);
      CallArgs args;
      eval_args(e, 1, args);
      return Value(test(e.name, v, args));
    }
    case ExprKind::Neg:
      return negate(eval(*e.args[0]));
    case ExprKind::Pos: {
      Value v = eval(*e.args[0]);
      if (!v.is_number()) throw RuntimeError("bad operand type for unary +: '" + v.type_name() + "'");
      return v;
    }
    case ExprKind::Not:
      return Value(!eval(*e.args[0]).truthy());
    case ExprKind::And: {
      Value l = eval(*e.args[0]);
      return l.truthy() ? eval(*e.args[1]) : l;
    }
    case ExprKind::Or: {
      Value l = eval(*e.args[0]);
      return l.truthy() ? l : eval(*e.args[1]);
    }
    case ExprKind::Binary:
      return binary_op(e.name, eval(*e.args[0]), eval(*e.args[1]));
    case ExprKind::Compare: {
      Value left = eval(*e.args[0]);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1]);
        if (!compare_op(e.ops[i], left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case ExprKind::CondExpr:
      if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value(Undefined{"the inline if-expression evaluated to false and no else section was defined"});
  }
  return Value();
}

}  // namespace um::text::detail
