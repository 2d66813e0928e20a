#pragma once
// Added tokens (tokenizer.json "added_tokens"): matched in the text before pre-tokenization,
// leftmost-longest, honouring single_word, lstrip and rstrip like the Rust AddedVocabulary.
// Tokens with normalized=false are matched in the raw text, the others in normalised text.
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace um::text::detail {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool single_word = false;
};

// A match: bytes [b, e) of the text (including whitespace absorbed by lstrip/rstrip) → id.
struct AddedMatch {
  uint32_t b;
  uint32_t e;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  // Only tokens whose `normalized` flag equals `normalized` are matched by this matcher.
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, bool normalized);
  bool empty() const { return tokens_.empty(); }
  // Appends the matches in valid UTF-8 `s`, left to right, non-overlapping.
  void find(std::string_view s, std::vector<AddedMatch>& out) const;

 private:
  std::vector<AddedToken> tokens_;
  // Per first byte: indexes into tokens_, longest first.
  std::array<std::vector<uint32_t>, 256> by_first_;
};

}  // namespace um::text::detail
