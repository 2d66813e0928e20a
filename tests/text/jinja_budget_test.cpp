// Hostile chat templates (templates come from downloaded model repositories): recursion, endless
// loops and exploding strings stop at the render budgets (text/jinja.h, JinjaLimits) with a
// util::Error naming the template line and column, instead of crashing (SIGSEGV), hanging or
// exhausting memory. A seeded random-template generator checks that every template either renders
// or throws util::Error (it also runs in the ASan+UBSan tree of scripts/test).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "text/jinja.h"
#include "util/error.h"
#include "util/rng.h"

namespace {

using json = nlohmann::ordered_json;
using um::text::JinjaLimits;
using um::text::JinjaTemplate;

// The util::Error message of rendering `tpl` (parse or render), or "" when it renders.
std::string error_of(const std::string& tpl, const json& vars = json::object(), JinjaLimits limits = {}) {
  try {
    JinjaTemplate t(tpl, "<hostile>", limits);
    t.render(vars);
  } catch (const um::util::Error& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaBudget, RecursiveMacroStopsAtTheDepthBudget) {
  std::string e = error_of("{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(e.find("recursion budget"), std::string::npos) << e;
  EXPECT_NE(e.find("template line 1, column"), std::string::npos) << e;
  // Recursion through {% call %} blocks and caller() as well.
  e = error_of("{% macro g() %}{% call g() %}x{% endcall %}{{ caller() }}{% endmacro %}\n{{ g() }}");
  EXPECT_NE(e.find("recursion budget"), std::string::npos) << e;
  // A recursive macro that stops in time renders.
  EXPECT_EQ(error_of("{% macro f(n) %}{% if n < 50 %}{{ f(n+1) }}{% else %}{{ n }}{% endif %}{% endmacro %}"
                     "{{ f(0) }}"),
            "");
}

TEST(JinjaBudget, NestedHugeLoopsStopAtTheStepBudget) {
  std::string e =
      error_of("{% for i in range(999999) %}\n  {% for j in range(999999) %}{% endfor %}{% endfor %}");
  EXPECT_NE(e.find("step budget"), std::string::npos) << e;
  EXPECT_NE(e.find("template line 1, column 4"), std::string::npos) << e;  // the outer loop's 2nd step
  // Exponential recursion within the depth budget: 2^60 macro calls (a smaller budget keeps the
  // test quick under ASan).
  JinjaLimits quick;
  quick.max_steps = 100000;
  e = error_of("{% macro f(n) %}{% if n < 60 %}{{ f(n+1) }}{{ f(n+1) }}{% endif %}{% endmacro %}{{ f(0) }}",
               json::object(), quick);
  EXPECT_NE(e.find("step budget"), std::string::npos) << e;
  // The budget is a parameter: 10 iterations pass with 10 steps, 11 do not.
  JinjaLimits small;
  small.max_steps = 10;
  EXPECT_EQ(error_of("{% for i in range(10) %}{{ i }}{% endfor %}", json::object(), small), "");
  EXPECT_NE(
      error_of("{% for i in range(11) %}{{ i }}{% endfor %}", json::object(), small).find("step budget"),
      std::string::npos);
}

TEST(JinjaBudget, StringDoublingStopsAtTheSizeBudget) {
  std::string e = error_of(
      "{% set ns = namespace(s='a') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
      "{{ ns.s|length }}");
  EXPECT_NE(e.find("size budget"), std::string::npos) << e;
  EXPECT_NE(e.find("template line 1, column"), std::string::npos) << e;
  e = error_of(
      "{% set ns = namespace(s='a') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}");
  EXPECT_NE(e.find("size budget"), std::string::npos) << e;
  // One-step explosions are refused before they allocate.
  for (const char* tpl :
       {"{{ 'ab' * 1000000000000 }}", "{{ ['ab'] * 1000000000000 }}",
        "{{ ('x' * 1000000)|replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}",
        "{{ ('x' * 1000000).replace('x', 'x' * 1000000) }}", "{{ 'a'|indent(1000000000000) }}",
        "{{ [1, 2]|tojson(indent=1000000000000) }}", "{{ ('\n' * 1000000)|indent(100, true) }}"}) {
    e = error_of(tpl);
    EXPECT_NE(e.find("size budget"), std::string::npos) << tpl << ": " << e;
  }
  // Output written by plain text and prints counts as well.
  JinjaLimits small;
  small.max_output_bytes = 1000;
  EXPECT_EQ(error_of("{% for i in range(99) %}0123456789{% endfor %}", json::object(), small), "");
  EXPECT_NE(
      error_of("{% for i in range(101) %}0123456789{% endfor %}", json::object(), small).find("size budget"),
      std::string::npos);
}

TEST(JinjaBudget, ManyStepsOverLargeValuesStopAtTheWorkBudget) {
  std::string e = error_of(
      "{% set s = 'x' * 10000000 %}{% for i in range(100000) %}{% if s|length > 0 %}{% endif %}{% endfor %}");
  EXPECT_NE(e.find("work budget"), std::string::npos) << e;
}

TEST(JinjaBudget, DeepNestingIsAnErrorNotACrash) {
  // Syntactic nesting: brackets, prefix operators, blocks.
  std::string deep(100000, '(');
  std::string e = error_of("{{ " + deep + "1" + std::string(100000, ')') + " }}");
  EXPECT_NE(e.find("nesting budget"), std::string::npos) << e.substr(0, 200);
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_NE(error_of("{{ " + nots + "1 }}").find("nesting budget"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 20000; ++i) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs + "x").find("nesting budget"), std::string::npos);
  // A long left-deep chain is parsed by a loop: evaluating it hits the depth budget, and
  // destroying its syntax tree does not recurse.
  std::string chain = "{{ 'a'";
  for (int i = 0; i < 200000; ++i) chain += " ~ 'a'";
  e = error_of(chain + " }}");
  EXPECT_NE(e.find("recursion budget"), std::string::npos) << e.substr(0, 200);
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 200000; ++i) filters += "|lower";
  EXPECT_NE(error_of(filters + " }}").find("recursion budget"), std::string::npos);
  // Values nested by a loop, and deeply nested variables.
  e = error_of(
      "{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x "
      "}}");
  EXPECT_NE(e.find("nest deeper than"), std::string::npos) << e;
  json vars;
  vars["v"] = json::parse(std::string(100000, '[') + "1" + std::string(100000, ']'));
  e = error_of("{{ v }}", vars);
  EXPECT_NE(e.find("nest deeper than"), std::string::npos) << e;
}

// ---- seeded random templates ----

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::string tpl() {
    std::string s;
    int n = pick(1, 6);
    for (int i = 0; i < n; ++i) s += stmt(0);
    if (pick(0, 4) == 0) s = mutate(s);
    return s;
  }

 private:
  int pick(int lo, int hi) { return static_cast<int>(rng_.uniform_int(lo, hi)); }
  template <size_t N>
  const char* one(const char* const (&xs)[N]) {
    return xs[static_cast<size_t>(rng_.uniform_int(0, static_cast<int64_t>(N) - 1))];
  }

  std::string name() {
    static const char* const names[] = {"x",          "s",   "xs", "m", "messages",      "ns.s",
                                        "loop.index", "f",   "i",  "d", "undefined_var", "ns",
                                        "caller",     "loop"};
    return one(names);
  }

  std::string literal() {
    switch (pick(0, 7)) {
      case 0:
        return std::to_string(pick(-3, 100));
      case 1:
        return "'" + std::string(static_cast<size_t>(pick(0, 5)), "ab"[pick(0, 1)]) + "'";
      case 2:
        return "[1, 'a', none]";
      case 3:
        return "{'k': 'v', 'n': 2}";
      case 4:
        return "true";
      case 5:
        return "999999";
      case 6:
        return "none";
      default:
        return "(1, 2)";
    }
  }

  std::string expr(int depth) {
    if (depth > 4) return pick(0, 1) ? literal() : name();
    static const char* const binops[] = {"~",  "+",  "*",  "-", "/",   "//", "%",
                                         "**", "==", "!=", "<", "and", "or", "in"};
    static const char* const filters[] = {"upper",
                                          "lower",
                                          "length",
                                          "join",
                                          "list",
                                          "string",
                                          "trim",
                                          "first",
                                          "last",
                                          "tojson",
                                          "sort",
                                          "unique",
                                          "reverse",
                                          "sum",
                                          "items",
                                          "default",
                                          "indent",
                                          "int",
                                          "float",
                                          "escape",
                                          "title",
                                          "replace('a', 'bb')",
                                          "map('upper')",
                                          "select",
                                          "join(', ')",
                                          "indent(4, true)",
                                          "tojson(indent=2)",
                                          "batch(2)",
                                          "abs"};
    static const char* const methods[] = {"split()",  "strip()",         "replace('a', 'aa')", "upper()",
                                          "items()",  "startswith('a')", "get('k')",           "keys()",
                                          "values()", "join(xs)"};
    switch (pick(0, 11)) {
      case 0:
        return literal();
      case 1:
        return name();
      case 2:
      case 3:
        return "(" + expr(depth + 1) + " " + one(binops) + " " + expr(depth + 1) + ")";
      case 4:
        return expr(depth + 1) + "|" + one(filters);
      case 5:
        return expr(depth + 1) + "." + one(methods);
      case 6:
        return "range(" + std::to_string(pick(0, 2) ? pick(0, 20) : 999999) + ")";
      case 7:
        return "f(" + expr(depth + 1) + ")";
      case 8:
        return "[" + expr(depth + 1) + ", " + expr(depth + 1) + "]";
      case 9:
        return expr(depth + 1) + "[" + expr(depth + 1) + "]";
      case 10:
        return "(" + expr(depth + 1) + " if " + expr(depth + 1) + " else " + expr(depth + 1) + ")";
      default:
        return "not " + expr(depth + 1) + " is " + (pick(0, 1) ? "defined" : "string");
    }
  }

  std::string stmt(int depth) {
    if (depth > 3) return pick(0, 1) ? "t" : "{{ " + expr(2) + " }}";
    std::string body;
    int n = pick(0, 3);
    for (int i = 0; i < n; ++i) body += stmt(depth + 1);
    switch (pick(0, 10)) {
      case 0:
        return "text ";
      case 1:
      case 2:
        return "{{ " + expr(0) + " }}";
      case 3:
        return "{% for i in " + expr(1) + " %}" + body + "{% endfor %}";
      case 4:
        return "{% if " + expr(1) + " %}" + body + "{% else %}" + stmt(depth + 1) + "{% endif %}";
      case 5:
        return "{% set x = " + expr(1) + " %}";
      case 6:
        return "{% set ns.s = ns.s ~ " + expr(2) + " %}";
      case 7:
        return "{% macro f(n) %}" + body + "{{ f(n) }}{% endmacro %}";
      case 8:
        return "{% macro f(n) %}" + body + "{% endmacro %}";
      case 9:
        return "{% call f(1) %}" + body + "{% endcall %}";
      default:
        return "{% for m in messages %}{% if loop.first %}{% continue %}{% endif %}" + body + "{% endfor %}";
    }
  }

  // Random damage: deleted, duplicated or inserted pieces (parser error paths).
  std::string mutate(std::string s) {
    static const char* const junk[] = {"{%", "%}",     "{{", "}}", "(",   ")", "[",
                                       "|",  "endfor", "'",  "{#", "-%}", "~"};
    int n = pick(1, 4);
    for (int i = 0; i < n && !s.empty(); ++i) {
      size_t at = static_cast<size_t>(rng_.uniform_int(0, static_cast<int64_t>(s.size()) - 1));
      switch (pick(0, 2)) {
        case 0:
          s.erase(at, static_cast<size_t>(pick(1, 5)));
          break;
        case 1:
          s.insert(at, one(junk));
          break;
        default:
          s.insert(at, s.substr(at, static_cast<size_t>(pick(1, 30))));
          break;
      }
    }
    return s;
  }

  um::util::Rng rng_;
};

TEST(JinjaBudget, RandomTemplatesRenderOrRaiseUtilError) {
  JinjaLimits limits;  // small budgets keep every template quick, also under ASan
  limits.max_steps = 20000;
  limits.max_output_bytes = 1 << 20;
  limits.max_work_bytes = 16 << 20;
  const json vars = {{"messages", json::array({json{{"role", "user"}, {"content", "hi"}},
                                               json{{"role", "assistant"}, {"content", "yo"}}})},
                     {"xs", json::array({"a", "b"})},
                     {"d", json{{"k", "v"}}},
                     {"s", "text"}};
  const std::string prefix = "{% set ns = namespace(s='ab') %}";
  Generator gen(20261206);
  // A fixed number of seeded templates (no time box: what runs must not depend on the machine's load).
  const char* env = std::getenv("UM_JINJA_FUZZ_TEMPLATES");  // more locally: UM_JINJA_FUZZ_TEMPLATES=20000
  const int count = env ? std::atoi(env) : 250;
  int rendered = 0, errors = 0;
  for (int i = 0; i < count; ++i) {
    const std::string tpl = prefix + gen.tpl();
    try {
      JinjaTemplate t(tpl, "<random>", limits);
      std::string out = t.render(vars);
      EXPECT_LE(out.size(), limits.max_output_bytes);
      ++rendered;
    } catch (const um::util::Error& e) {
      EXPECT_NE(std::string(e.what()).find("template"), std::string::npos) << e.what();
      ++errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "template #" << i << " threw a non-util::Error: " << e.what() << "\n" << tpl;
    }
  }
  // The generator exercises both outcomes.
  EXPECT_GT(rendered, count / 10);
  EXPECT_GT(errors, count / 10);
}

}  // namespace
