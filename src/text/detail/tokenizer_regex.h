#pragma once
// PCRE2 (UTF + UCP + JIT) wrapper for the patterns found in tokenizer.json files. Those patterns are
// written for Oniguruma (the Rust tokenizers crate); `\s`/`\S` are rewritten to Unicode White_Space
// so that they match exactly what Oniguruma matches (PCRE2's \s differs on U+0085).
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <functional>
#include <string>
#include <string_view>

namespace um::text::detail {

class Regex {
 public:
  // `literal` = true escapes the pattern (tokenizer.json {"String": ...} patterns).
  Regex(std::string_view pattern, bool literal);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls fn(begin, end) for each non-overlapping match in valid UTF-8 `s`, left to right.
  // Empty matches are reported and the scan moves on by one character.
  void find_all(std::string_view s, const std::function<void(size_t, size_t)>& fn) const;

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

// Rewrites `\s` / `\S` to explicit White_Space classes (see above). Exposed for tests.
std::string oniguruma_to_pcre2(std::string_view pattern);

}  // namespace um::text::detail
