// Tokenizer behaviour that the oracle corpus does not pin down: API contracts, offsets, invalid
// UTF-8, config tokens, errors, Metaspace, single_word, merge strategies, CLI stream.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shared_data.h"
#include "text/detail/tokenizer_bpe.h"
#include "text/tokenizer.h"
#include "text/tokenizer_corpus.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Tokenizer& qwen() {
  static const Tokenizer tok = [] {
    auto p = um::testing::shared_path("tokenizers/qwen3");
    return Tokenizer::load(*p);
  }();
  return tok;
}

const Tokenizer& llama() {
  static const Tokenizer tok = [] {
    auto p = um::testing::shared_path("tokenizers/llama3_1");
    return Tokenizer::load(*p);
  }();
  return tok;
}

#define REQUIRE_TOKENIZERS()                       \
  UM_REQUIRE_SHARED(um_q_, "tokenizers/qwen3");    \
  UM_REQUIRE_SHARED(um_l_, "tokenizers/llama3_1"); \
  (void)um_q_;                                     \
  (void)um_l_

TEST(Tokenizer, LetterIdsAreFirstIdsOfBareLetters) {
  REQUIRE_TOKENIZERS();
  EXPECT_EQ(letter_token_ids(qwen(), 5), (std::vector<int32_t>{32, 33, 34, 35, 36}));
  EXPECT_EQ(letter_token_ids(llama(), 5), (std::vector<int32_t>{32, 33, 34, 35, 36}));
  EXPECT_EQ(letter_token_ids(qwen(), 26).size(), 26u);
  EXPECT_THROW(letter_token_ids(qwen(), 0), util::Error);
  EXPECT_THROW(letter_token_ids(qwen(), 27), util::Error);
}

TEST(Tokenizer, LetterIdsMustBeDistinct) {
  // Lowercase normaliser: "A" and "B" become "a" and "b", still distinct; a Replace that maps
  // every capital letter to "x" makes them collide.
  json tok = {{"model", {{"type", "BPE"}, {"vocab", {{"x", 0}, {"y", 1}}}, {"merges", json::array()}}},
              {"normalizer", {{"type", "Replace"}, {"pattern", {{"Regex", "[A-Z]"}}}, {"content", "x"}}}};
  auto t = Tokenizer::from_json(tok.dump());
  EXPECT_EQ(t.encode("AB", false), (std::vector<int32_t>{0, 0}));
  EXPECT_THROW(letter_token_ids(t, 2), util::Error);
}

TEST(Tokenizer, ConfigTokensAndVocabulary) {
  REQUIRE_TOKENIZERS();
  EXPECT_EQ(llama().bos_id(), 128000);
  EXPECT_EQ(llama().eos_id(), 128009);
  EXPECT_EQ(llama().bos_token(), "<|begin_of_text|>");
  EXPECT_FALSE(qwen().bos_id().has_value());
  EXPECT_EQ(qwen().eos_id(), 151645);
  EXPECT_EQ(qwen().pad_id(), 151643);
  EXPECT_EQ(qwen().vocab_size(), 151669u);
  EXPECT_EQ(llama().vocab_size(), 128256u);
  EXPECT_EQ(qwen().token_to_id("Ġhello"), 23811);
  EXPECT_EQ(qwen().id_to_token(23811), "Ġhello");
  EXPECT_EQ(qwen().token_to_id("<|im_start|>"), 151644);
  EXPECT_TRUE(qwen().is_special(151644));
  EXPECT_FALSE(qwen().is_special(32));
  EXPECT_FALSE(qwen().token_to_id("definitely-not-a-token").has_value());
  EXPECT_FALSE(qwen().id_to_token(10'000'000).has_value());
  // Llama-3 adds <|begin_of_text|> through its TemplateProcessing post-processor.
  EXPECT_EQ(llama().encode("Hello world", true), (std::vector<int32_t>{128000, 9906, 1917}));
  EXPECT_EQ(llama().encode("Hello world", false), (std::vector<int32_t>{9906, 1917}));
  EXPECT_EQ(qwen().encode("Hello world", true), (std::vector<int32_t>{9707, 1879}));
}

TEST(Tokenizer, ConfigTokensMayBeObjects) {
  json tok = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}}},
              {"added_tokens", json::array({{{"id", 1}, {"content", "<s>"}, {"special", true}},
                                            {{"id", 2}, {"content", "</s>"}, {"special", true}}})}};
  json config = {
      {"bos_token", {{"content", "<s>"}, {"lstrip", false}}}, {"eos_token", "</s>"}, {"pad_token", nullptr}};
  auto t = Tokenizer::from_json(tok.dump(), config.dump());
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_FALSE(t.pad_id().has_value());
  EXPECT_EQ(t.vocab_size(), 3u);
  EXPECT_EQ(t.encode("a<s>a</s>", false), (std::vector<int32_t>{0, 1, 0, 2}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{0, 1, 0}, true), "a a");  // no decoder: joined by spaces
  EXPECT_THROW(Tokenizer::from_json(tok.dump(), R"({"bos_token": 5})"), util::Error);
}

TEST(Tokenizer, InvalidUtf8IsReplacedByMaximalSubparts) {
  REQUIRE_TOKENIZERS();
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(qwen().encode("a\xff"
                          "b",
                          false),
            qwen().encode("a" + fffd + "b", false));
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  EXPECT_EQ(qwen().encode("x\xe2\x82 y", false), qwen().encode("x" + fffd + " y", false));
  // A surrogate encoding: ED cannot be followed by A0, so three U+FFFD.
  EXPECT_EQ(qwen().encode("\xed\xa0\x80", false), qwen().encode(fffd + fffd + fffd, false));
  EXPECT_EQ(llama().decode(llama().encode("ok\xc0"
                                          "ok",
                                          false)),
            "ok" + fffd + "ok");
  // Offsets of the replacement cover the invalid byte.
  auto enc = qwen().encode_with_offsets("a\xff", false);
  ASSERT_FALSE(enc.ids.empty());
  EXPECT_EQ(enc.offsets.back().second, 2u);
}

// Byte ranges must tile the input: consecutive, non-overlapping (a multi-byte character split
// across byte-level tokens gives the same range to both), covering everything.
void expect_offsets_tile(const Tokenizer& t, const std::string& text) {
  auto enc = t.encode_with_offsets(text, false);
  EXPECT_EQ(enc.ids, t.encode(text, false)) << text;
  ASSERT_EQ(enc.ids.size(), enc.offsets.size());
  uint32_t pos = 0;
  for (const auto& [b, e] : enc.offsets) {
    EXPECT_TRUE(b == pos || (b < pos && e == pos)) << text << " at " << b;
    EXPECT_LE(b, e);
    pos = std::max(pos, e);
  }
  EXPECT_EQ(pos, text.size()) << text;
}

TEST(Tokenizer, OffsetsMapTokensToInputBytes) {
  REQUIRE_TOKENIZERS();
  std::string text = "Hello, wörld!<|im_start|>user\n  12345 \xF0\x9F\x98\x80";
  auto enc = qwen().encode_with_offsets(text, false);
  ASSERT_GE(enc.ids.size(), 3u);
  EXPECT_EQ(enc.offsets[0], (std::pair<uint32_t, uint32_t>{0, 5}));  // "Hello"
  auto it = std::find(enc.ids.begin(), enc.ids.end(), 151644);
  ASSERT_NE(it, enc.ids.end());
  auto k = static_cast<size_t>(it - enc.ids.begin());
  EXPECT_EQ(text.substr(enc.offsets[k].first, enc.offsets[k].second - enc.offsets[k].first), "<|im_start|>");
  for (const auto& s : um::testing::adversarial_strings()) {
    expect_offsets_tile(qwen(), s);
    expect_offsets_tile(llama(), s);
  }
  expect_offsets_tile(qwen(), text);
  // NFC composes e + U+0301 into one character; its token covers both original code points.
  auto nfc = qwen().encode_with_offsets("e\xCC\x81", false);
  EXPECT_EQ(nfc.ids, qwen().encode("\xC3\xA9", false));
  EXPECT_EQ(nfc.offsets.back().second, 3u);
  // Post-processor tokens get empty ranges.
  auto bos = llama().encode_with_offsets("hi", true);
  EXPECT_EQ(bos.offsets[0], (std::pair<uint32_t, uint32_t>{0, 0}));
}

TEST(Tokenizer, DecodeRoundTripsAndCleansUp) {
  REQUIRE_TOKENIZERS();
  for (const std::string s : {"Hello world", "  spaces\r\n\ttabs", "中文和English混合。",
                              "emoji \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", "1234567"}) {
    EXPECT_EQ(qwen().decode(qwen().encode(s, false)), s);
  }
  auto ids = qwen().encode("<|im_start|>user\nhi<|im_end|>", false);
  EXPECT_EQ(qwen().decode(ids, true), "user\nhi");
  EXPECT_EQ(qwen().decode(ids, false), "<|im_start|>user\nhi<|im_end|>");
  // Llama-3.1's tokenizer_config sets clean_up_tokenization_spaces, as transformers applies it.
  EXPECT_EQ(llama().decode(llama().encode("Hello , world . I 'm", false)), "Hello, world. I'm");
  EXPECT_THROW(qwen().decode(std::vector<int32_t>{-1}), util::Error);
  EXPECT_THROW(qwen().decode(std::vector<int32_t>{999'999'999}), util::Error);
}

TEST(Tokenizer, BatchEqualsSerialOnAnyThreadCount) {
  REQUIRE_TOKENIZERS();
  auto texts = um::testing::adversarial_strings();
  for (int i = 0; i < 200; ++i) texts.push_back("line " + std::to_string(i) + " of a batch");
  std::vector<std::vector<int32_t>> serial;
  for (const auto& t : texts) serial.push_back(llama().encode(t, true));
  for (unsigned threads : {1u, 2u, 8u}) EXPECT_EQ(llama().encode_batch(texts, true, threads), serial);
}

TEST(Tokenizer, HeapAndScanMergesAgree) {
  UM_REQUIRE_SHARED(dir, "tokenizers/qwen3");
  json tok = json::parse(util::read_file(dir / "tokenizer.json"));
  detail::BpeModel model(tok.at("model"), true);
  std::vector<std::string> words = {"hello", "internationalization", std::string(200, ' '),
                                    std::string(77, 'a'), "ababababababababababababababababa"};
  for (const auto& s : um::testing::adversarial_strings()) words.push_back(s);
  for (const auto& w : words) {
    EXPECT_EQ(model.encode_uncached(w, false), model.encode_uncached(w, true)) << w;
  }
}

// A tiny SentencePiece-style model with a Metaspace pre-tokenizer (split, prepend "first").
json metaspace_tokenizer() {
  return {{"added_tokens",
           json::array({{{"id", 5}, {"content", "<s>"}, {"special", true}, {"normalized", false}}})},
          {"pre_tokenizer",
           {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", true}}},
          {"decoder", {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<unk>"},
            {"vocab", {{"\u2581", 0}, {"a", 1}, {"b", 2}, {"\u2581a", 3}, {"<unk>", 4}}},
            {"merges", json::array({"\u2581 a"})}}}};
}

TEST(Tokenizer, MetaspacePrependsOnlyAtTheStartOfTheInput) {
  auto t = Tokenizer::from_json(metaspace_tokenizer().dump());
  EXPECT_EQ(t.encode("a b", false), (std::vector<int32_t>{3, 0, 2}));
  EXPECT_EQ(t.encode("a<s>a", false), (std::vector<int32_t>{3, 5, 1}));
  EXPECT_EQ(t.encode("ac", false), (std::vector<int32_t>{3, 4}));  // unknown "c"
  EXPECT_EQ(t.decode(std::vector<int32_t>{3, 0, 2}), "a b");
  auto enc = t.encode_with_offsets("a b", false);
  EXPECT_EQ(enc.offsets, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {1, 2}, {2, 3}}));
}

TEST(Tokenizer, LowercaseFollowsRustCharMapping) {
  json tok = {{"normalizer", {{"type", "Lowercase"}}},
              {"model",
               {{"type", "BPE"},
                {"unk_token", "?"},
                {"vocab", {{"i", 0}, {"\u0307", 1}, {"\u00e9", 2}, {"?", 3}, {"\u03c3", 4}}},
                {"merges", json::array()}}}};
  auto t = Tokenizer::from_json(tok.dump());
  EXPECT_EQ(t.encode("\u0130\u00c9I\u03a3", false), (std::vector<int32_t>{0, 1, 2, 0, 4}));
}

TEST(Tokenizer, SingleWordAddedTokensNeedWordBoundaries) {
  json tok = {
      {"added_tokens", json::array({{{"id", 3},
                                     {"content", "ab"},
                                     {"special", false},
                                     {"single_word", true},
                                     {"normalized", false}}})},
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {" ", 2}}}, {"merges", json::array()}}}};
  auto t = Tokenizer::from_json(tok.dump());
  EXPECT_EQ(t.encode("ab", false), (std::vector<int32_t>{3}));
  EXPECT_EQ(t.encode("a ab", false), (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(t.encode("aab", false), (std::vector<int32_t>{0, 0, 1}));
}

// A model whose vocabulary holds whole pieces (ignore_merges: a piece found in the vocabulary is one
// token), so that the ids show how the pre-tokenizer cut the text.
Tokenizer piece_tokenizer(const json& pre_tokenizer, const json& normalizer = nullptr,
                          const json& post_processor = nullptr) {
  std::vector<std::string> words = {"the",    "final",      "countdown", "the-", "final-",
                                    "-final", "-countdown", "--",        "-",    " ",
                                    "a",      "b",          "12",        "3",    "\u2581a"};
  json vocab = json::object();
  int32_t id = 0;
  for (char c = 'a'; c <= 'z'; ++c) vocab[std::string(1, c)] = id++;
  for (const auto& w : words) {
    if (!vocab.contains(w)) vocab[w] = id++;
  }
  json tok = {{"normalizer", normalizer},
              {"pre_tokenizer", pre_tokenizer},
              {"post_processor", post_processor},
              {"model",
               {{"type", "BPE"},
                {"ignore_merges", true},
                {"unk_token", "-"},
                {"vocab", vocab},
                {"merges", json::array()}}}};
  return Tokenizer::from_json(tok.dump());
}

std::vector<std::string> pieces(const Tokenizer& t, const std::string& text) {
  std::vector<std::string> out;
  for (int32_t id : t.encode(text, true)) out.push_back(*t.id_to_token(id));
  return out;
}

using Strings = std::vector<std::string>;

TEST(Tokenizer, SplitBehavioursFollowTheRustDefinitions) {
  auto split = [](const char* behavior, bool invert = false) {
    return piece_tokenizer(
        {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}});
  };
  const std::string text = "the-final--countdown";
  EXPECT_EQ(pieces(split("Removed"), text), (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(pieces(split("Isolated"), text), (Strings{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces(split("MergedWithPrevious"), text), (Strings{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces(split("MergedWithNext"), text), (Strings{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces(split("Contiguous"), text), (Strings{"the", "-", "final", "--", "countdown"}));
  // Inverted: the words become the delimiters and are removed; each dash stays its own piece.
  EXPECT_EQ(pieces(split("Removed", true), text), (Strings{"-", "-", "-"}));
}

TEST(Tokenizer, WhitespaceDigitsStripAndProcessors) {
  EXPECT_EQ(pieces(piece_tokenizer({{"type", "WhitespaceSplit"}}), " the \t final\ncountdown "),
            (Strings{"the", "final", "countdown"}));
  EXPECT_EQ(pieces(piece_tokenizer({{"type", "Whitespace"}}), "the--final countdown"),
            (Strings{"the", "--", "final", "countdown"}));
  auto digits = [](bool individual) {
    return piece_tokenizer(
        {{"type", "Sequence"},
         {"pretokenizers", json::array({{{"type", "WhitespaceSplit"}},
                                        {{"type", "Digits"}, {"individual_digits", individual}}})}});
  };
  // "123" is not in the vocabulary: characters, "1" and "2" unknown.
  EXPECT_EQ(pieces(digits(false), "a123b"), (Strings{"a", "-", "-", "3", "b"}));
  EXPECT_EQ(pieces(digits(false), "a12b"), (Strings{"a", "12", "b"}));
  EXPECT_EQ(pieces(digits(true), "a12"), (Strings{"a", "-", "-"}));  // "1", "2" unknown
  auto strip = piece_tokenizer({{"type", "WhitespaceSplit"}},
                               {{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}});
  EXPECT_EQ(pieces(strip, "  the "), (Strings{"the"}));
  auto roberta = piece_tokenizer(
      {{"type", "WhitespaceSplit"}}, nullptr,
      {{"type", "RobertaProcessing"}, {"cls", json::array({"a", 0})}, {"sep", json::array({"b", 1})}});
  EXPECT_EQ(pieces(roberta, "the final"), (Strings{"a", "the", "final", "b"}));
  auto meta = piece_tokenizer(
      {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}, {"split", true}});
  EXPECT_EQ(pieces(meta, "a a"), (Strings{"\u2581a", "\u2581a"}));
}

TEST(Tokenizer, NormalizedAddedTokensMatchAfterNormalisation) {
  json tok = {{"normalizer", {{"type", "Lowercase"}}},
              {"added_tokens",
               json::array({{{"id", 10}, {"content", "<x>"}, {"special", false}, {"normalized", true}},
                            {{"id", 11}, {"content", "<Y>"}, {"special", true}, {"normalized", false}}})},
              {"model",
               {{"type", "BPE"},
                {"vocab", {{"a", 0}, {"<", 1}, {">", 2}, {"x", 3}, {"y", 4}}},
                {"merges", json::array()}}}};
  auto t = Tokenizer::from_json(tok.dump());
  // "<X>" lower-cases to "<x>" and then matches; "<Y>" matches only as written, before lowercasing.
  EXPECT_EQ(t.encode("a<X>a<Y>a<y>", false), (std::vector<int32_t>{0, 10, 0, 11, 0, 1, 4, 2}));
  auto enc = t.encode_with_offsets("a<X>", false);
  EXPECT_EQ(enc.offsets.back(), (std::pair<uint32_t, uint32_t>{1, 4}));
}

TEST(Tokenizer, LoadErrorsNameTheProblem) {
  fs::path dir = um::testing::temp_dir("tok-errors");
  try {
    Tokenizer::load(dir);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "tokenizer.json") << "{ not json";
  try {
    Tokenizer::load(dir);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().file, (dir / "tokenizer.json").string());
  }
  std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  std::ofstream(dir / "tokenizer_config.json") << "[1,";
  try {
    Tokenizer::load(dir);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().file, (dir / "tokenizer_config.json").string());
  }
  fs::remove(dir / "tokenizer_config.json");
  EXPECT_EQ(Tokenizer::load(dir / "tokenizer.json").encode("aa", false), (std::vector<int32_t>{0, 0}));
  std::ofstream(dir / "tokenizer.json")
      << R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})";
  EXPECT_THROW(Tokenizer::load(dir), util::Error);
  json unsupported = {{"normalizer", {{"type", "BertNormalizer"}}},
                      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}}}};
  std::ofstream(dir / "tokenizer.json") << unsupported.dump();
  EXPECT_THROW(Tokenizer::load(dir), util::NotSupported);
  json wordpiece = {{"model", {{"type", "WordPiece"}, {"vocab", {{"a", 0}}}}}};
  EXPECT_THROW(Tokenizer::from_json(wordpiece.dump()), util::NotSupported);
  json bad_merge = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", {"a b"}}}}};
  EXPECT_THROW(Tokenizer::from_json(bad_merge.dump()), util::Error);
}

TEST(Tokenizer, JsonLinesStream) {
  REQUIRE_TOKENIZERS();
  std::istringstream in("\"Hello world\"\n\"caf\\u00e9\"\r\n\"\"\n");
  std::ostringstream out;
  EXPECT_EQ(encode_json_lines(llama(), in, out, true, 2), 3);
  std::string expect;
  for (const std::string s : {"Hello world", "café", ""})
    expect += json(llama().encode(s, true)).dump() + "\n";
  EXPECT_EQ(out.str(), expect);
  std::istringstream bad("\"ok\"\n{\"a\": 1}\n");
  try {
    encode_json_lines(llama(), bad, out, false, 1, "in.jsonl");
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().line, 2);
    EXPECT_EQ(e.where().file, "in.jsonl");
  }
}

TEST(Tokenizer, CliTokenizeCommand) {
  UM_REQUIRE_SHARED(dir, "tokenizers/qwen3");
  fs::path exe = um::testing::binary_dir() / "usermirror";
  if (!fs::exists(exe)) GTEST_SKIP() << "build the usermirror target to run this test";
  fs::path tmp = um::testing::temp_dir("tok-cli");
  std::ofstream(tmp / "in.jsonl") << "\"Hello world\"\n\"<|im_start|>x\"\n";
  std::string cmd = "'" + exe.string() + "' tokenize --tokenizer '" + dir.string() + "' < '" +
                    (tmp / "in.jsonl").string() + "' > '" + (tmp / "out.jsonl").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(util::read_file(tmp / "out.jsonl"), "[9707,1879]\n[151644,87]\n");
}

}  // namespace
}  // namespace um::text
