// Exactness against the JavaScript port of Hugging Face tokenizers (@lenml/tokenizers): every
// record of the real corpus (tokenizer_corpus.h) must give identical ids with and without special
// tokens, and identical decoded text, for the real Qwen3 and Llama-3.1 files and for variants that
// exercise the other pipeline pieces (GPT-2 ByteLevel regex, SentencePiece-style BPE).
// The test installs the oracle itself into <build>/npm-oracle (offline: skips, or fails under CI).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shared_data.h"
#include "text/tokenizer.h"
#include "text/tokenizer_corpus.h"
#include "util/line_reader.h"

namespace um::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kOraclePackage = "@lenml/tokenizers@3.7.2";

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

// Directory whose node_modules holds the oracle, installing it on first use; empty on failure
// with the reason in *why.
fs::path oracle_dir(std::string* why) {
  fs::path dir = um::testing::binary_dir() / "npm-oracle";
  if (fs::exists(dir / "node_modules" / "@lenml" / "tokenizers" / "package.json")) return dir;
  if (run("node --version > /dev/null 2>&1") != 0) {
    *why = "node is not installed";
    return {};
  }
  fs::create_directories(dir);
  std::string cmd = "npm install --silent --no-audit --no-fund --prefix " + quote(dir) + " " +
                    kOraclePackage + " > " + quote(dir / "install.log") + " 2>&1";
  if (run(cmd) != 0) {
    *why =
        "npm install " + std::string(kOraclePackage) + " failed (see " + (dir / "install.log").string() + ")";
    return {};
  }
  return dir;
}

#define UM_REQUIRE_ORACLE(var)                   \
  std::string um_why_;                           \
  fs::path var = oracle_dir(&um_why_);           \
  if (var.empty()) {                             \
    if (um::testing::in_ci()) FAIL() << um_why_; \
    GTEST_SKIP() << um_why_;                     \
  }

std::vector<json> run_oracle(const fs::path& modules, const fs::path& tok_dir, const fs::path& corpus,
                             const fs::path& out) {
  fs::path script = um::testing::source_dir() / "tests" / "oracles" / "tokenizer" / "encode.js";
  std::string cmd = "node " + quote(script) + " " + quote(modules) + " " + quote(tok_dir) + " " +
                    quote(corpus) + " " + quote(out);
  if (run(cmd) != 0) throw std::runtime_error("oracle failed: " + cmd);
  std::vector<json> rows;
  util::LineReader in(out);
  std::string_view line;
  while (in.next(line)) rows.push_back(json::parse(line));
  return rows;
}

std::string show(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 300);
}

// Compares every record; returns the number of mismatching records (the first few are printed).
void expect_matches_oracle(const Tokenizer& tok, const fs::path& tok_dir,
                           const std::vector<std::string>& texts, const std::string& tag) {
  UM_REQUIRE_ORACLE(modules);
  fs::path tmp = um::testing::temp_dir("tok-oracle-" + tag);
  um::testing::write_corpus(tmp / "corpus.bin", texts);
  auto rows = run_oracle(modules, tok_dir, tmp / "corpus.bin", tmp / "oracle.jsonl");
  ASSERT_EQ(rows.size(), texts.size());
  auto batch = tok.encode_batch(texts, false, 2);
  size_t bad = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto plain = rows[i][0].get<std::vector<int32_t>>();
    const auto special = rows[i][1].get<std::vector<int32_t>>();
    auto ours = tok.encode(texts[i], false);
    auto ours_special = tok.encode(texts[i], true);
    std::string dec = tok.decode(special, false);
    std::string dec_skip = tok.decode(special, true);
    bool ok = ours == plain && ours_special == special && batch[i] == plain &&
              dec == rows[i][2].get<std::string>() && dec_skip == rows[i][3].get<std::string>();
    if (!ok && ++bad <= 8) {
      ADD_FAILURE() << tag << " record " << i << " " << show(texts[i]) << "\n  oracle ids "
                    << json(plain).dump().substr(0, 300) << "\n  ours       "
                    << json(ours).dump().substr(0, 300) << "\n  oracle decode "
                    << show(rows[i][2].get<std::string>()) << "\n  ours decode   " << show(dec);
    }
  }
  EXPECT_EQ(bad, 0u) << tag << ": " << bad << " of " << texts.size() << " records differ";
}

class TokenizerOracle : public ::testing::Test {
 protected:
  static const std::vector<std::string>& corpus(const fs::path& data) {
    static std::vector<std::string> texts = um::testing::tokenizer_corpus(data);
    return texts;
  }
};

TEST_F(TokenizerOracle, Qwen3MatchesJavaScriptOnRealCorpus) {
  UM_REQUIRE_SHARED(dir, "tokenizers/qwen3");
  UM_REQUIRE_SHARED(data, "data");
  const auto& texts = corpus(data);
  ASSERT_GT(texts.size(), 40000u);
  expect_matches_oracle(Tokenizer::load(dir), dir, texts, "qwen3");
}

TEST_F(TokenizerOracle, Llama31MatchesJavaScriptOnRealCorpus) {
  UM_REQUIRE_SHARED(dir, "tokenizers/llama3_1");
  UM_REQUIRE_SHARED(data, "data");
  expect_matches_oracle(Tokenizer::load(dir), dir, corpus(data), "llama3_1");
}

// A subset keeps the variant runs short: the adversarial strings plus every 20th real record.
std::vector<std::string> sample(const std::vector<std::string>& all) {
  std::vector<std::string> out = um::testing::adversarial_strings();
  for (size_t i = 0; i < all.size(); i += 20) out.push_back(all[i]);
  return out;
}

// Qwen3's vocabulary with the GPT-2 pre-tokenizer (ByteLevel with its own regex and a prefix
// space) instead of the Split regex.
TEST_F(TokenizerOracle, Gpt2StyleByteLevelRegexMatchesJavaScript) {
  UM_REQUIRE_SHARED(src, "tokenizers/qwen3");
  UM_REQUIRE_SHARED(data, "data");
  json tok = json::parse(util::read_file(src / "tokenizer.json"));
  tok["normalizer"] = nullptr;
  tok["pre_tokenizer"] = {
      {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  fs::path dir = um::testing::temp_dir("tok-gpt2");
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  fs::copy_file(src / "tokenizer_config.json", dir / "tokenizer_config.json");
  expect_matches_oracle(Tokenizer::load(dir), dir, sample(corpus(data)), "gpt2-style");
}

}  // namespace
}  // namespace um::text
