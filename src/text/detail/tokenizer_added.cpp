#include "text/detail/tokenizer_added.h"

#include <utf8proc.h>

#include <algorithm>

#include "text/detail/tokenizer_text.h"

namespace um::text::detail {

namespace {

bool is_word_char(uint32_t cp) {
  if (cp == '_') return true;
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) || is_numeric(cp);
}

// Start of the code point that ends at byte `e` (exclusive).
size_t prev_cp_start(std::string_view s, size_t e) {
  size_t k = e - 1;
  while (k > 0 && (static_cast<uint8_t>(s[k]) & 0xC0) == 0x80) --k;
  return k;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens, bool normalized) {
  for (const auto& t : tokens) {
    if (t.normalized == normalized && !t.content.empty()) tokens_.push_back(t);
  }
  for (uint32_t i = 0; i < tokens_.size(); ++i) {
    by_first_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& v : by_first_) {
    std::stable_sort(v.begin(), v.end(), [&](uint32_t a, uint32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

void AddedTokenMatcher::find(std::string_view s, std::vector<AddedMatch>& out) const {
  size_t i = 0;
  size_t prev_stop = 0;
  while (i < s.size()) {
    const auto& cands = by_first_[static_cast<uint8_t>(s[i])];
    const AddedToken* hit = nullptr;
    for (uint32_t c : cands) {
      const std::string& content = tokens_[c].content;
      if (s.compare(i, content.size(), content) == 0) {
        hit = &tokens_[c];
        break;
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    size_t start = i;
    size_t stop = i + hit->content.size();
    i = stop;
    uint32_t cp = 0;
    if (hit->single_word) {
      bool word_before = start > 0 && (next_cp(s, prev_cp_start(s, start), cp), is_word_char(cp));
      bool word_after = stop < s.size() && (next_cp(s, stop, cp), is_word_char(cp));
      if (word_before || word_after) continue;
    }
    if (hit->lstrip) {
      while (start > prev_stop) {
        size_t k = prev_cp_start(s, start);
        next_cp(s, k, cp);
        if (!is_white_space(cp)) break;
        start = k;
      }
    }
    if (hit->rstrip) {
      while (stop < s.size()) {
        size_t n = next_cp(s, stop, cp);
        if (!is_white_space(cp)) break;
        stop += n;
      }
      i = stop;
    }
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(stop), hit->id});
    prev_stop = stop;
  }
}

}  // namespace um::text::detail
