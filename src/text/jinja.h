#pragma once
// A Jinja2 template interpreter for Hugging Face chat templates.
//
//   um::text::JinjaTemplate t("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
//   std::string s = t.render({{"messages", nlohmann::ordered_json::array({...})}});
//
// Semantics are jinja2's as transformers configures it for chat templates: an immutable sandbox,
// trim_blocks=True, lstrip_blocks=True, the loopcontrols extension ({% break %}, {% continue %}),
// transformers' {% generation %} block (rendered inline), a tojson filter equal to
// json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...), and the globals
// raise_exception(msg) and strftime_now(fmt) besides jinja2's range, dict and namespace.
// Values behave like Python's (truthiness, str(), ==, slicing) and undefined variables like
// jinja2's default Undefined. docs/chat-templates.md lists the deliberate differences.
//
// Errors: parsing and rendering throw util::Error whose message starts with
// "template line L, column C:" and whose location names the template's origin.
// Budgets (templates come from downloaded model repositories): nesting, steps and size are bounded
// (JinjaLimits), so any template either renders or throws util::Error: it cannot crash the process
// by recursion, run for hours or exhaust memory.
// Thread safety: a parsed template is immutable; render() may run concurrently from many threads.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace um::text {

struct JinjaLimits {
  // Nested expressions, blocks and macro/caller calls of one render together (recursion budget;
  // the parser separately allows 300 levels of syntactic nesting).
  int max_depth = 500;
  // Loop iterations plus macro calls of one render (about a second of work).
  int64_t max_steps = 1'000'000;
  // The output, and any string or container the template builds on the way (also bounds
  // repetition, replace, indent, join and tojson before they allocate).
  size_t max_output_bytes = size_t{32} << 20;
  // Bytes of all strings (and 8 per list or dict entry) that expressions produce in one render:
  // bounds the work of many steps over large values.
  uint64_t max_work_bytes = uint64_t{1} << 30;
};

class JinjaTemplate {
 public:
  // Parses `source`; `origin` (e.g. the tokenizer_config.json path) names the template in errors.
  explicit JinjaTemplate(std::string_view source, std::string origin = "<template>", JinjaLimits limits = {});

  // Renders with every member of the JSON object `vars` as a template variable.
  std::string render(const nlohmann::ordered_json& vars) const;
  // Same, with variables given by name -> value pointer (no copy of large inputs such as messages);
  // later entries override earlier ones.
  using VarRefs = std::vector<std::pair<std::string, const nlohmann::ordered_json*>>;
  std::string render(const VarRefs& vars) const;

  const std::string& origin() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace um::text
