#include "text/detail/tokenizer_pretokenizer.h"

#include <nlohmann/json.hpp>
#include <string>

#include "text/detail/tokenizer_regex.h"
#include "util/error.h"

namespace um::text::detail {

namespace {

using nlohmann::json;

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const std::string& s) {
  if (s == "Removed") return Behavior::Removed;
  if (s == "Isolated") return Behavior::Isolated;
  if (s == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::MergedWithNext;
  if (s == "Contiguous") return Behavior::Contiguous;
  throw util::NotSupported("split behavior '" + s + "' is not supported");
}

struct Part {
  uint32_t b, e;
  bool match;
};

// Splits every piece by the matches `find` reports, following the Rust tokenizers semantics of
// NormalizedString::split for each behaviour (empty parts are dropped).
template <class Find>
void split_pieces(PreTok& p, Behavior behavior, bool invert, Find&& find) {
  std::vector<Piece> out;
  out.reserve(p.pieces.size() * 2);
  std::vector<Part> parts;
  std::vector<Part> merged;
  for (const Piece& pc : p.pieces) {
    parts.clear();
    std::string_view text(p.buf.s.data() + pc.b, pc.e - pc.b);
    uint32_t prev = 0;
    find(text, [&](size_t b, size_t e) {
      if (prev != b) parts.push_back({prev, static_cast<uint32_t>(b), false});
      parts.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), true});
      prev = static_cast<uint32_t>(e);
    });
    if (prev != text.size()) parts.push_back({prev, static_cast<uint32_t>(text.size()), false});
    if (invert) {
      for (auto& x : parts) x.match = !x.match;
    }
    merged.clear();
    bool prev_match = false;
    switch (behavior) {
      case Behavior::Removed:
        for (const auto& x : parts) {
          if (!x.match) merged.push_back(x);
        }
        break;
      case Behavior::Isolated:
        merged = parts;
        break;
      case Behavior::Contiguous:
        for (const auto& x : parts) {
          if (x.match == prev_match && !merged.empty()) {
            merged.back().e = x.e;
          } else {
            merged.push_back(x);
          }
          prev_match = x.match;
        }
        break;
      case Behavior::MergedWithPrevious:
        for (const auto& x : parts) {
          if (x.match && !prev_match && !merged.empty()) {
            merged.back().e = x.e;
          } else {
            merged.push_back(x);
          }
          prev_match = x.match;
        }
        break;
      case Behavior::MergedWithNext:
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
          if (it->match && !prev_match && !merged.empty()) {
            merged.back().b = it->b;
          } else {
            merged.push_back(*it);
          }
          prev_match = it->match;
        }
        std::reverse(merged.begin(), merged.end());
        break;
    }
    for (const auto& x : merged) {
      if (x.e > x.b) out.push_back({pc.b + x.b, pc.b + x.e, pc.at_origin && x.b == 0});
    }
  }
  p.pieces = std::move(out);
}

class Split final : public PreTokenizer {
 public:
  Split(const json& pattern, Behavior behavior, bool invert)
      : regex_(pattern.contains("Regex") ? pattern.at("Regex").get<std::string>()
                                         : pattern.at("String").get<std::string>(),
               !pattern.contains("Regex")),
        behavior_(behavior),
        invert_(invert) {}
  void apply(PreTok& p) const override {
    split_pieces(p, behavior_, invert_,
                 [&](std::string_view s, const auto& emit) { regex_.find_all(s, emit); });
  }

 private:
  Regex regex_;
  Behavior behavior_;
  bool invert_;
};

// Prepends `prefix` to a piece: the new bytes (aligned to an empty span at the piece start)
// and a copy of the piece are appended to the buffer.
Piece prepend_to_piece(PreTok& p, const Piece& pc, std::string_view prefix) {
  auto nb = static_cast<uint32_t>(p.buf.s.size());
  Span at = p.buf.track ? Span{p.buf.align[pc.b].begin, p.buf.align[pc.b].begin} : Span{};
  p.buf.append(prefix, at);
  p.buf.append_from(p.buf, pc.b, pc.e);
  return {nb, static_cast<uint32_t>(p.buf.s.size()), pc.at_origin};
}

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(
                               "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
                               "\\s+(?!\\S)|\\s+",
                               false)
                         : nullptr) {}
  void apply(PreTok& p) const override {
    if (add_prefix_space_) {
      for (Piece& pc : p.pieces) {
        if (p.buf.s[pc.b] != ' ') pc = prepend_to_piece(p, pc, " ");
      }
    }
    if (regex_) {
      split_pieces(p, Behavior::Isolated, false,
                   [&](std::string_view s, const auto& emit) { regex_->find_all(s, emit); });
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class Digits final : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}
  void apply(PreTok& p) const override {
    split_pieces(p, individual_ ? Behavior::Isolated : Behavior::Contiguous, false,
                 [&](std::string_view s, const auto& emit) {
                   size_t i = 0;
                   while (i < s.size()) {
                     uint32_t cp = 0;
                     size_t n = next_cp(s, i, cp);
                     if (is_numeric(cp)) emit(i, i + n);
                     i += n;
                   }
                 });
  }

 private:
  bool individual_;
};

class WhitespaceSplit final : public PreTokenizer {
 public:
  void apply(PreTok& p) const override {
    split_pieces(p, Behavior::Removed, false, [&](std::string_view s, const auto& emit) {
      size_t i = 0;
      while (i < s.size()) {
        uint32_t cp = 0;
        size_t n = next_cp(s, i, cp);
        if (is_white_space(cp)) emit(i, i + n);
        i += n;
      }
    });
  }
};

class Whitespace final : public PreTokenizer {
 public:
  void apply(PreTok& p) const override {
    // Rust: Regex \w+|[^\w\s]+ with Removed-inverted behaviour, i.e. keep only the matches.
    split_pieces(p, Behavior::Removed, true,
                 [&](std::string_view s, const auto& emit) { regex_.find_all(s, emit); });
  }

 private:
  Regex regex_{"\\w+|[^\\w\\s]+", false};
};

enum class Prepend { Always, First, Never };

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(std::string replacement, Prepend scheme, bool split)
      : rep_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(PreTok& p) const override {
    for (Piece& pc : p.pieces) {
      auto nb = static_cast<uint32_t>(p.buf.s.size());
      bool starts = std::string_view(p.buf.s).substr(pc.b, pc.e - pc.b).starts_with(' ') ||
                    std::string_view(p.buf.s).substr(pc.b, pc.e - pc.b).starts_with(rep_);
      bool prepend = !starts && (scheme_ == Prepend::Always || (scheme_ == Prepend::First && pc.at_origin));
      if (prepend) {
        Span at = p.buf.track ? Span{p.buf.align[pc.b].begin, p.buf.align[pc.b].begin} : Span{};
        p.buf.append(rep_, at);
      }
      for (uint32_t i = pc.b; i < pc.e; ++i) {
        if (p.buf.s[i] == ' ') {
          p.buf.append(rep_, p.buf.track ? p.buf.align[i] : Span{});
        } else {
          p.buf.append_from(p.buf, i, i + 1);
        }
      }
      pc = {nb, static_cast<uint32_t>(p.buf.s.size()), pc.at_origin};
    }
    if (split_) {
      split_pieces(p, Behavior::MergedWithNext, false, [&](std::string_view s, const auto& emit) {
        size_t pos = 0;
        while ((pos = s.find(rep_, pos)) != std::string_view::npos) {
          emit(pos, pos + rep_.size());
          pos += rep_.size();
        }
      });
    }
  }

 private:
  std::string rep_;
  Prepend scheme_;
  bool split_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}
  void apply(PreTok& p) const override {
    for (const auto& t : items_) t->apply(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, bool* byte_level) {
  if (j.is_null()) return nullptr;
  const std::string type = j.at("type").get<std::string>();
  if (type == "Split") {
    return std::make_unique<Split>(j.at("pattern"), parse_behavior(j.at("behavior")),
                                   j.value("invert", false));
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    return std::make_unique<ByteLevel>(j.value("add_prefix_space", true), j.value("use_regex", true));
  }
  if (type == "Digits") return std::make_unique<Digits>(j.value("individual_digits", false));
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  if (type == "Metaspace") {
    Prepend scheme = Prepend::Always;
    if (j.contains("prepend_scheme")) {
      auto s = j.at("prepend_scheme").get<std::string>();
      scheme = s == "always" ? Prepend::Always : s == "first" ? Prepend::First : Prepend::Never;
    } else if (!j.value("add_prefix_space", true)) {
      scheme = Prepend::Never;
    }
    return std::make_unique<Metaspace>(j.value("replacement", std::string("\u2581")), scheme,
                                       j.value("split", true));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    for (const auto& t : j.at("pretokenizers")) {
      if (auto p = make_pre_tokenizer(t, byte_level)) items.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(items));
  }
  throw util::NotSupported("tokenizer.json pre_tokenizer type '" + type + "' is not supported",
                           {.field = "pre_tokenizer.type"});
}

}  // namespace um::text::detail
