#include "text/detail/tokenizer_normalizer.h"

#include <utf8proc.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "text/detail/tokenizer_regex.h"
#include "util/error.h"

namespace um::text::detail {

namespace {

using nlohmann::json;

class Unicode final : public Normalizer {
 public:
  explicit Unicode(int options) : options_(options) {}
  void apply(TextBuf& t) const override {
    // ASCII text is invariant under every normal form.
    bool ascii = true;
    for (char c : t.s) ascii = ascii && static_cast<uint8_t>(c) < 0x80;
    if (ascii) return;
    TextBuf out;
    out.track = t.track;
    utf8proc_append(t, out, options_);
    t = std::move(out);
  }

 private:
  int options_;
};

class Lowercase final : public Normalizer {
 public:
  void apply(TextBuf& t) const override {
    TextBuf out;
    out.track = t.track;
    lowercase_append(t, out);
    t = std::move(out);
  }
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void apply(TextBuf& t) const override {
    size_t b = 0, e = t.s.size();
    uint32_t cp = 0;
    while (left_ && b < e) {
      size_t n = next_cp(t.s, b, cp);
      if (!is_white_space(cp)) break;
      b += n;
    }
    while (right_ && e > b) {
      size_t k = e - 1;
      while (k > b && (static_cast<uint8_t>(t.s[k]) & 0xC0) == 0x80) --k;
      next_cp(t.s, k, cp);
      if (!is_white_space(cp)) break;
      e = k;
    }
    TextBuf out;
    out.track = t.track;
    out.append_from(t, b, e);
    t = std::move(out);
  }

 private:
  bool left_, right_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prepend_(std::move(p)) {}
  void apply(TextBuf& t) const override {
    if (t.s.empty()) return;
    TextBuf out;
    out.track = t.track;
    out.append(prepend_, t.track ? Span{t.align[0].begin, t.align[0].begin} : Span{});
    out.append_from(t, 0, t.s.size());
    t = std::move(out);
  }

 private:
  std::string prepend_;
};

class Replace final : public Normalizer {
 public:
  Replace(const json& pattern, std::string content)
      : regex_(pattern.contains("Regex") ? pattern.at("Regex").get<std::string>()
                                         : pattern.at("String").get<std::string>(),
               !pattern.contains("Regex")),
        content_(std::move(content)) {}
  void apply(TextBuf& t) const override {
    TextBuf out;
    out.track = t.track;
    size_t prev = 0;
    regex_.find_all(t.s, [&](size_t b, size_t e) {
      out.append_from(t, prev, b);
      Span sp = t.track ? (e > b ? t.span_of(b, e) : Span{t.align[b].begin, t.align[b].begin}) : Span{};
      out.append(content_, sp);
      prev = e;
    });
    out.append_from(t, prev, t.s.size());
    t = std::move(out);
  }

 private:
  Regex regex_;
  std::string content_;
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> items) : items_(std::move(items)) {}
  void apply(TextBuf& t) const override {
    for (const auto& n : items_) n->apply(t);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = j.at("type").get<std::string>();
  if (type == "NFC") return std::make_unique<Unicode>(UTF8PROC_COMPOSE);
  if (type == "NFD") return std::make_unique<Unicode>(UTF8PROC_DECOMPOSE);
  if (type == "NFKC") return std::make_unique<Unicode>(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD") return std::make_unique<Unicode>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip") {
    return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
  }
  if (type == "Prepend") return std::make_unique<Prepend>(j.at("prepend").get<std::string>());
  if (type == "Replace") {
    return std::make_unique<Replace>(j.at("pattern"), j.at("content").get<std::string>());
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> items;
    for (const auto& n : j.at("normalizers")) {
      if (auto p = make_normalizer(n)) items.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(items));
  }
  throw util::NotSupported("tokenizer.json normalizer type '" + type + "' is not supported",
                           {.field = "normalizer.type"});
}

}  // namespace um::text::detail
