#include "text/jinja.h"

#include <ctime>

#include "text/detail/jinja_args.h"
#include "text/detail/jinja_error.h"
#include "text/detail/jinja_interp.h"
#include "text/detail/jinja_lexer.h"
#include "text/detail/jinja_parser.h"

namespace um::text {

using detail::Value;

struct JinjaTemplate::Impl {
  std::string origin;
  detail::Body body;
  JinjaLimits limits;
};

namespace {

Value from_json(const nlohmann::ordered_json& j, const std::string& origin, uint32_t depth = 1) {
  if (depth > detail::kMaxValueDepth && (j.is_array() || j.is_object())) {
    throw util::Error(
        "template variables nest deeper than " + std::to_string(detail::kMaxValueDepth) + " levels",
        {.file = origin, .field = "chat_template"});
  }
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value(detail::None{});
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned:
      return Value(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x, origin, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto d = std::make_shared<detail::Dict>();
      d->items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        d->items.emplace_back(it.key(), from_json(it.value(), origin, depth + 1));
      d->update_depth();
      return Value(std::move(d));
    }
    default:
      return Value(detail::None{});
  }
}

Value builtin(const char* name, std::function<Value(detail::Interpreter&, detail::CallArgs&)> fn) {
  auto c = std::make_shared<detail::Callable>();
  c->name = name;
  c->fn = std::move(fn);
  return Value(std::move(c));
}

detail::Interpreter::Frame make_globals() {
  using detail::CallArgs;
  using detail::Interpreter;
  using detail::RuntimeError;
  detail::Interpreter::Frame g;
  g.emplace_back("range", builtin("range", [](Interpreter&, CallArgs& a) {
                   int64_t start = 0, stop = 0, step = 1;
                   if (a.positional.size() == 1) {
                     stop = detail::need_int(a.positional[0], "range() argument");
                   } else if (a.positional.size() >= 2) {
                     start = detail::need_int(a.positional[0], "range() argument");
                     stop = detail::need_int(a.positional[1], "range() argument");
                     if (a.positional.size() >= 3)
                       step = detail::need_int(a.positional[2], "range() argument");
                   } else {
                     throw RuntimeError("range expected at least 1 argument, got 0");
                   }
                   if (step == 0) throw RuntimeError("range() arg 3 must not be zero");
                   std::vector<Value> out;
                   for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
                     if (out.size() > 1000000) throw RuntimeError("range too big, max 1000000 items");
                     out.emplace_back(i);
                   }
                   return Value::list(std::move(out));
                 }));
  g.emplace_back("dict", builtin("dict", [](Interpreter&, CallArgs& a) {
                   auto d = std::make_shared<detail::Dict>();
                   if (!a.positional.empty() && a.positional[0].is_dict()) *d = a.positional[0].dict_ref();
                   for (auto& [k, v] : a.keyword) d->set(k, v);
                   return Value(std::move(d));
                 }));
  g.emplace_back("namespace", builtin("namespace", [](Interpreter&, CallArgs& a) {
                   auto ns = std::make_shared<detail::Namespace>();
                   if (!a.positional.empty() && a.positional[0].is_dict())
                     ns->attrs = a.positional[0].dict_ref();
                   for (auto& [k, v] : a.keyword) ns->attrs.set(k, v);
                   return Value(std::move(ns));
                 }));
  g.emplace_back("raise_exception", builtin("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
                   throw detail::RaisedError(detail::to_str(detail::arg(a, 0, "message")));
                 }));
  g.emplace_back("strftime_now", builtin("strftime_now", [](Interpreter&, CallArgs& a) {
                   const std::string& fmt =
                       detail::need_str(detail::arg(a, 0, "format"), "strftime_now format");
                   std::time_t now = std::time(nullptr);
                   std::tm local{};
                   localtime_r(&now, &local);
                   char buf[512];
                   size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &local);
                   return Value(std::string(buf, n));
                 }));
  return g;
}

}  // namespace

JinjaTemplate::JinjaTemplate(std::string_view source, std::string origin, JinjaLimits limits) {
  auto impl = std::make_shared<Impl>();
  impl->origin = std::move(origin);
  impl->limits = limits;
  impl->body = detail::parse_template(detail::lex_template(source, impl->origin), impl->origin);
  impl_ = std::move(impl);
}

const std::string& JinjaTemplate::origin() const { return impl_->origin; }

std::string JinjaTemplate::render(const nlohmann::ordered_json& vars) const {
  if (!vars.is_object())
    throw util::Error("template variables must be a JSON object", {.file = impl_->origin});
  VarRefs refs;
  refs.reserve(vars.size());
  for (auto it = vars.begin(); it != vars.end(); ++it) refs.emplace_back(it.key(), &it.value());
  return render(refs);
}

std::string JinjaTemplate::render(const VarRefs& vars) const {
  detail::Interpreter::Frame globals = make_globals();
  for (const auto& [name, value] : vars) {
    bool replaced = false;
    for (auto& [k, v] : globals) {
      if (k == name) {
        v = from_json(*value, impl_->origin);
        replaced = true;
      }
    }
    if (!replaced) globals.emplace_back(name, from_json(*value, impl_->origin));
  }
  const JinjaLimits& l = impl_->limits;
  detail::Interpreter interp(impl_->origin, std::move(globals),
                             {l.max_depth, l.max_steps, l.max_output_bytes, l.max_work_bytes});
  std::string out;
  interp.render(impl_->body, out);
  return out;
}

}  // namespace um::text
