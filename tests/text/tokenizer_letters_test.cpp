// Option-letter token ids (docs/method.md §7 step 4): the reference's bare-letter ids, and the ids the
// letters get after the scoring prefix "Behavior: [". For the real Qwen3 and Llama-3.1 tokenizers
// the two agree, which is why scoring can keep the reference's definition.
#include <gtest/gtest.h>

#include <set>

#include "common/shared_data.h"
#include "text/tokenizer.h"

namespace {

void check(const std::filesystem::path& dir) {
  auto tok = um::text::Tokenizer::load(dir);
  auto bare = um::text::letter_token_ids(tok, 26);
  auto ctx = um::text::letter_token_ids_in_context(tok, 26);
  ASSERT_EQ(bare.size(), 26u);
  EXPECT_EQ(std::set<int32_t>(bare.begin(), bare.end()).size(), 26u) << "letter ids must be distinct";
  EXPECT_EQ(bare, ctx) << dir;
  for (size_t i = 0; i < 26; ++i) {
    std::vector<int32_t> one = {bare[i]};
    EXPECT_EQ(tok.decode(one, false), std::string(1, static_cast<char>('A' + i)));
  }
  // A context whose last token merges with a letter has no single next-token id for it.
  auto merged = um::text::letter_token_ids_in_context(tok, 3, "Behavior: [X");
  for (int32_t id : merged) EXPECT_EQ(id, -1);
}

}  // namespace

TEST(LetterTokens, Qwen3BareEqualsInContext) {
  UM_REQUIRE_SHARED(dir, "tokenizers/qwen3");
  check(dir);
}

TEST(LetterTokens, Llama31BareEqualsInContext) {
  UM_REQUIRE_SHARED(dir, "tokenizers/llama3_1");
  check(dir);
}
