#pragma once
// Python str.format-style templates (docs/method.md §3.2): "{name}" placeholders, "{{" and "}}" for
// literal braces. A placeholder without a value is a hard error naming the key, as in the
// reference (KeyError); extra values are ignored.
//
//   Template t("{title} - {genres} \n");
//   Fields f(&item_description);          // base dict: wins on key collisions
//   f.add("new_release", "[New Release]");
//   std::string s; t.render(f, s);
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace um::scene {

// The feature dict of one rendered entity: a base JSON object (a description) and derived values.
// Lookup order follows the reference's dict union: the base wins, then earlier derived values win
// over later ones.
class Fields {
 public:
  explicit Fields(const nlohmann::json* base = nullptr) : base_(base) {}
  void add(std::string_view key, std::string value) { derived_.emplace_back(key, std::move(value)); }
  // Appends the Python-str of `key`'s value to out; false if the key has no value.
  bool append(std::string_view key, std::string& out) const;

 private:
  const nlohmann::json* base_;
  std::vector<std::pair<std::string_view, std::string>> derived_;
};

class Template {
 public:
  Template() = default;
  // Throws util::Error on an unbalanced brace or a conversion/format spec (not used by any
  // reference template, so not supported).
  explicit Template(std::string_view text);
  // Appends the rendering; throws util::Error (field = the key) when a placeholder has no value.
  void render(const Fields& f, std::string& out) const;
  std::string render(const Fields& f) const;
  bool empty() const { return parts_.empty(); }
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  struct Part {
    bool field;
    std::string text;  // literal text or field name
  };
  std::vector<Part> parts_;
  std::vector<std::string> keys_;
};

}  // namespace um::scene
