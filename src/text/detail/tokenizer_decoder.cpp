#include "text/detail/tokenizer_decoder.h"

#include <nlohmann/json.hpp>

#include "text/detail/tokenizer_regex.h"
#include "text/detail/tokenizer_text.h"
#include "util/error.h"
#include "util/utf8.h"

namespace um::text::detail {

namespace {

using nlohmann::json;

std::string lossy(std::string s) {
  TextBuf fixed;
  return utf8_lossy(s, fixed) ? std::move(fixed.s) : s;
}

std::vector<uint32_t> code_points(const std::string& s) {
  std::vector<uint32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    i += next_cp(s, i, cp);
    out.push_back(cp);
  }
  return out;
}

uint32_t single_char(const std::string& s, const char* what) {
  auto cps = code_points(s);
  if (cps.size() != 1) throw util::Error(std::string(what) + " must be one character", {.field = "decoder"});
  return cps[0];
}

class ByteLevel final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      size_t start = bytes.size();
      size_t i = 0;
      bool ok = true;
      while (i < t.size()) {
        uint32_t cp = 0;
        i += next_cp(t, i, cp);
        int b = cp_to_byte(cp);
        if (b < 0) {
          ok = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!ok) {  // not in the byte-level alphabet (e.g. an added token with a space): raw bytes
        bytes.resize(start);
        bytes.append(t);
      }
    }
    tokens.assign(1, lossy(std::move(bytes)));
  }
};

class Metaspace final : public Decoder {
 public:
  Metaspace(uint32_t rep, bool strip_first) : rep_(rep), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      size_t k = 0;
      const std::string& t = tokens[i];
      while (k < t.size()) {
        uint32_t cp = 0;
        size_t n = next_cp(t, k, cp);
        if (cp == rep_) {
          if (!(i == 0 && strip_first_)) out.push_back(' ');
        } else {
          out.append(t, k, n);
        }
        k += n;
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  uint32_t rep_;
  bool strip_first_;
};

class Replace final : public Decoder {
 public:
  Replace(const json& pattern, std::string content)
      : regex_(pattern.contains("Regex") ? pattern.at("Regex").get<std::string>()
                                         : pattern.at("String").get<std::string>(),
               !pattern.contains("Regex")),
        content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      std::string out;
      size_t prev = 0;
      regex_.find_all(t, [&](size_t b, size_t e) {
        out.append(t, prev, b - prev);
        out.append(content_);
        prev = e;
      });
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  Regex regex_;
  std::string content_;
};

class Fuse final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class Strip final : public Decoder {
 public:
  Strip(uint32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      auto cps = code_points(t);
      size_t b = 0;
      while (b < start_ && b < cps.size() && cps[b] == content_) ++b;
      size_t e = cps.size();
      size_t cut = 0;
      while (cut < stop_ && e > b && cps[e - 1] == content_) {
        --e;
        ++cut;
      }
      std::string out;
      for (size_t k = b; k < e; ++k) util::append_utf8(out, cps[k]);
      t = std::move(out);
    }
  }

 private:
  uint32_t content_;
  size_t start_, stop_;
};

class ByteFallback final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t nbytes = 0;
    auto flush = [&] {
      if (nbytes == 0) return;
      if (util::is_valid_utf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t k = 0; k < nbytes; ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      nbytes = 0;
    };
    for (auto& t : tokens) {
      if (t.size() == 6 && t.starts_with("<0x") && t[5] == '>') {
        unsigned v = 0;
        bool hex = true;
        for (size_t k = 3; k < 5; ++k) {
          char c = t[k];
          unsigned d = c >= '0' && c <= '9'   ? static_cast<unsigned>(c - '0')
                       : c >= 'A' && c <= 'F' ? static_cast<unsigned>(c - 'A' + 10)
                       : c >= 'a' && c <= 'f' ? static_cast<unsigned>(c - 'a' + 10)
                                              : 99u;
          hex = hex && d < 16;
          v = v * 16 + d;
        }
        if (hex) {
          bytes.push_back(static_cast<char>(v));
          ++nbytes;
          continue;
        }
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }
};

class Sequence final : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> items) : items_(std::move(items)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& d : items_) d->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = j.at("type").get<std::string>();
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Metaspace") {
    bool strip_first = true;
    if (j.contains("prepend_scheme")) {
      strip_first = j.at("prepend_scheme").get<std::string>() != "never";
    } else {
      strip_first = j.value("add_prefix_space", true);
    }
    return std::make_unique<Metaspace>(
        single_char(j.value("replacement", std::string("\u2581")), "Metaspace replacement"), strip_first);
  }
  if (type == "Replace") {
    return std::make_unique<Replace>(j.at("pattern"), j.at("content").get<std::string>());
  }
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    return std::make_unique<Strip>(single_char(j.at("content").get<std::string>(), "Strip content"),
                                   j.value("start", size_t{0}), j.value("stop", size_t{0}));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> items;
    for (const auto& d : j.at("decoders")) {
      if (auto p = make_decoder(d)) items.push_back(std::move(p));
    }
    return std::make_unique<Sequence>(std::move(items));
  }
  throw util::NotSupported("tokenizer.json decoder type '" + type + "' is not supported",
                           {.field = "decoder.type"});
}

std::string clean_up_tokenization(std::string s) {
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    std::string out;
    size_t prev = 0, pos = 0;
    while ((pos = s.find(from, prev)) != std::string::npos) {
      out.append(s, prev, pos - prev);
      out.append(to);
      prev = pos + from.size();
    }
    if (prev == 0) continue;
    out.append(s, prev, std::string::npos);
    s = std::move(out);
  }
  return s;
}

}  // namespace um::text::detail
