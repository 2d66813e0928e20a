#include "scene/template.h"

#include "scene/pystr.h"
#include "util/error.h"

namespace um::scene {

bool Fields::append(std::string_view key, std::string& out) const {
  if (base_ != nullptr && base_->is_object()) {
    auto it = base_->find(key);
    if (it != base_->end()) {
      append_py_str(out, *it);
      return true;
    }
  }
  for (const auto& [k, v] : derived_) {
    if (k == key) {
      out += v;
      return true;
    }
  }
  return false;
}

Template::Template(std::string_view text) {
  std::string lit;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      lit.push_back('{');
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      lit.push_back('}');
      i += 2;
    } else if (c == '{') {
      size_t end = text.find('}', i + 1);
      if (end == std::string_view::npos)
        throw util::Error("template: unmatched '{' in \"" + std::string(text) + "\"");
      std::string name(text.substr(i + 1, end - i - 1));
      if (name.empty() || name.find_first_of("{:!.[") != std::string::npos) {
        throw util::Error("template: unsupported placeholder '{" + name + "}'");
      }
      if (!lit.empty()) parts_.push_back({false, std::move(lit)});
      lit.clear();
      keys_.push_back(name);
      parts_.push_back({true, std::move(name)});
      i = end + 1;
    } else if (c == '}') {
      throw util::Error("template: single '}' in \"" + std::string(text) + "\"");
    } else {
      lit.push_back(c);
      ++i;
    }
  }
  if (!lit.empty()) parts_.push_back({false, std::move(lit)});
}

void Template::render(const Fields& f, std::string& out) const {
  for (const auto& p : parts_) {
    if (!p.field) {
      out += p.text;
    } else if (!f.append(p.text, out)) {
      throw util::Error("template placeholder '" + p.text + "' has no value", {.field = p.text})
          .with_reason("missing template key '" + p.text + "'");
    }
  }
}

std::string Template::render(const Fields& f) const {
  std::string s;
  render(f, s);
  return s;
}

}  // namespace um::scene
