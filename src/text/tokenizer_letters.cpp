#include <set>

#include "text/tokenizer.h"
#include "util/error.h"

namespace um::text {

std::vector<int32_t> letter_token_ids(const Tokenizer& tok, int n) {
  if (n < 1 || n > 26) throw util::Error("letter count must be within 1..26, got " + std::to_string(n));
  std::vector<int32_t> ids;
  std::set<int32_t> seen;
  for (int i = 0; i < n; ++i) {
    std::string letter(1, static_cast<char>('A' + i));
    auto enc = tok.encode(letter, false);
    if (enc.empty()) throw util::Error("letter '" + letter + "' encodes to no token");
    if (!seen.insert(enc[0]).second) {
      throw util::Error("letter '" + letter + "' shares its first token id " + std::to_string(enc[0]) +
                        " with an earlier letter");
    }
    ids.push_back(enc[0]);
  }
  return ids;
}

}  // namespace um::text

namespace um::text {

std::vector<int32_t> letter_token_ids_in_context(const Tokenizer& tok, int n, std::string_view context) {
  if (n < 1 || n > 26) throw util::Error("letter count must be within 1..26, got " + std::to_string(n));
  const std::vector<int32_t> base = tok.encode(context, false);
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) {
    std::string text(context);
    text.push_back(static_cast<char>('A' + i));
    std::vector<int32_t> enc = tok.encode(text, false);
    // The letter must add exactly one token after an unchanged context; otherwise the pre-tokenizer
    // or a merge joins it with the context's last token and no single next-token id exists.
    if (enc.size() != base.size() + 1 || !std::equal(base.begin(), base.end(), enc.begin())) {
      ids.push_back(-1);
      continue;
    }
    ids.push_back(enc.back());
  }
  return ids;
}

}  // namespace um::text
