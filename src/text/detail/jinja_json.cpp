// transformers overrides jinja2's tojson with
//   json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
// (no HTML escaping), so this reproduces Python's json.dumps output byte for byte.
#include <algorithm>
#include <cmath>

#include "text/detail/jinja_error.h"
#include "text/detail/jinja_ops.h"
#include "util/json_writer.h"

namespace um::text::detail {
namespace {

struct JsonStyle {
  bool pretty = false;
  std::string indent;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

void newline(std::string& out, const JsonStyle& st, int depth) {
  check_value_bytes(out.size() + 1 + saturating_mul(static_cast<size_t>(depth), st.indent.size()));
  out += '\n';
  for (int i = 0; i < depth; ++i) out += st.indent;
}

void write(std::string& out, const Value& v, const JsonStyle& st, int depth) {
  check_value_bytes(out.size() + (v.is_string() ? v.str().size() : 0) + st.item_sep.size() +
                    st.key_sep.size());
  if (v.is_none()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_float()) {
    double d = v.as_float();
    if (std::isnan(d)) {
      out += "NaN";
    } else if (std::isinf(d)) {
      out += d > 0 ? "Infinity" : "-Infinity";
    } else {
      out += float_repr(d);
    }
  } else if (v.is_string()) {
    util::append_json_string(out, v.str(), st.ensure_ascii);
  } else if (v.is_list()) {
    const auto& items = v.list_ref().items;
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += st.item_sep;
      if (st.pretty) newline(out, st, depth + 1);
      write(out, items[i], st, depth + 1);
    }
    if (st.pretty) newline(out, st, depth);
    out += ']';
  } else if (v.is_dict()) {
    const auto& d = v.dict_ref();
    if (d.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value>*> order;
    for (const auto& kv : d.items) order.push_back(&kv);
    if (st.sort_keys) {
      std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
    }
    out += '{';
    for (size_t i = 0; i < order.size(); ++i) {
      if (i) out += st.item_sep;
      if (st.pretty) newline(out, st, depth + 1);
      util::append_json_string(out, order[i]->first, st.ensure_ascii);
      out += st.key_sep;
      write(out, order[i]->second, st, depth + 1);
    }
    if (st.pretty) newline(out, st, depth);
    out += '}';
  } else {
    throw RuntimeError("Object of type " + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, const Value& indent, const Value& separators, bool sort_keys,
                    bool ensure_ascii) {
  JsonStyle st;
  st.sort_keys = sort_keys;
  st.ensure_ascii = ensure_ascii;
  if (!indent.is_undefined() && !indent.is_none()) {
    st.pretty = true;
    st.item_sep = ",";
    if (indent.is_string()) {
      st.indent = indent.str();
    } else if (indent.is_int()) {
      check_value_bytes(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())));
      st.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
    } else {
      throw RuntimeError("tojson indent must be an integer or a string");
    }
  }
  if (!separators.is_undefined() && !separators.is_none()) {
    if (!separators.is_list() || separators.list_ref().items.size() != 2 ||
        !separators.list_ref().items[0].is_string() || !separators.list_ref().items[1].is_string()) {
      throw RuntimeError("tojson separators must be a pair of strings");
    }
    st.item_sep = separators.list_ref().items[0].str();
    st.key_sep = separators.list_ref().items[1].str();
  }
  std::string out;
  write(out, v, st, 0);
  return out;
}

}  // namespace um::text::detail
