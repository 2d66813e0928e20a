// Exactness against the JavaScript port of Hugging Face tokenizers (@lenml/tokenizers): every
// record of the real corpus (tokenizer_corpus.h) must give identical ids with and without special
// tokens, and identical decoded text, for the real Qwen3 and Llama-3.1 files and for variants that
// exercise the other pipeline pieces (GPT-2 ByteLevel regex, SentencePiece-style BPE).
// The test installs the oracle itself into <build>/npm-oracle (offline: skips, or fails under CI).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
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
  fs::create_directories(dir);
  // ctest runs test processes in parallel: one installs, the others wait.
  int lock = ::open((dir / ".install.lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (lock >= 0) ::flock(lock, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::close(fd);
    }
  } unlock{lock};
  if (fs::exists(dir / "node_modules" / "@lenml" / "tokenizers" / "package.json")) return dir;
  if (run("node --version > /dev/null 2>&1") != 0) {
    *why = "node is not installed";
    return {};
  }
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

// FNV-1a over the inputs of an oracle run: its output is cached under that key.
uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Runs the oracle (or reuses a cached run with identical inputs) and returns its rows.
std::vector<json> oracle_rows(const fs::path& modules, const fs::path& tok_dir,
                              const std::string& corpus_bytes, int special_every) {
  fs::path script = um::testing::source_dir() / "tests" / "oracles" / "tokenizer" / "encode.js";
  uint64_t h = 14695981039346656037ull;
  h = fnv1a(h, corpus_bytes);
  h = fnv1a(h, util::read_file(script));
  h = fnv1a(h, util::read_file(tok_dir / "tokenizer.json"));
  if (fs::exists(tok_dir / "tokenizer_config.json")) {
    h = fnv1a(h, util::read_file(tok_dir / "tokenizer_config.json"));
  }
  h = fnv1a(h, std::string(kOraclePackage) + std::to_string(special_every));
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(h));
  fs::path cache = modules / "cache" / (std::string(key) + ".jsonl");
  if (!fs::exists(cache)) {
    fs::create_directories(cache.parent_path());
    fs::path corpus = cache.string() + ".corpus";
    std::ofstream(corpus, std::ios::binary) << corpus_bytes;
    fs::path tmp = cache.string() + ".tmp";
    std::string cmd = "node " + quote(script) + " " + quote(modules) + " " + quote(tok_dir) + " " +
                      quote(corpus) + " " + quote(tmp) + " --special-every=" + std::to_string(special_every);
    int rc = run(cmd);
    fs::remove(corpus);
    if (rc != 0) throw std::runtime_error("oracle failed: " + cmd);
    fs::rename(tmp, cache);
  }
  std::vector<json> rows;
  util::LineReader in(cache);
  std::string_view line;
  while (in.next(line)) rows.push_back(json::parse(line));
  return rows;
}

std::string corpus_bytes(const std::vector<std::string>& texts) {
  std::string out;
  for (const auto& t : texts) out += std::to_string(t.size()) + "\n" + t + "\n";
  return out;
}

// The one known defect of the oracle: its ByteFallback decoder turns each run of <0xXX> bytes into
// text with a default TextDecoder, which drops a leading U+FEFF (BOM). Rust's String::from_utf8,
// which Hugging Face uses, keeps it. Accept exactly that difference: the oracle's text equals ours
// with U+FEFF removed.
bool oracle_dropped_bom(const std::string& ours, const std::string& oracle) {
  if (ours.find("\xEF\xBB\xBF") == std::string::npos) return false;
  std::string stripped;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (ours.compare(i, 3, "\xEF\xBB\xBF") == 0) {
      i += 2;
    } else {
      stripped.push_back(ours[i]);
    }
  }
  return stripped == oracle;
}

std::string show(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 300);
}

// Every record must agree: ids without special tokens (also through encode_batch), ids with them
// (on the records the oracle computed them for) and both decodes.
void compare(const Tokenizer& tok, const std::vector<std::string>& texts, const std::vector<json>& rows,
             const std::string& tag) {
  ASSERT_EQ(rows.size(), texts.size()) << tag;
  auto batch = tok.encode_batch(texts, false, 2);
  size_t bad = 0, special_checked = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto plain = rows[i][0].get<std::vector<int32_t>>();
    auto ours = tok.encode(texts[i], false);
    bool ok = ours == plain && batch[i] == plain;
    if (!rows[i][1].is_null()) {
      ok = ok && tok.encode(texts[i], true) == rows[i][1].get<std::vector<int32_t>>();
      ++special_checked;
    }
    std::string dec = tok.decode(plain, false);
    std::string dec_skip = tok.decode(plain, true);
    const auto& odec = rows[i][2].get_ref<const std::string&>();
    const auto& odec_skip = rows[i][3].get_ref<const std::string&>();
    ok = ok && (dec == odec || oracle_dropped_bom(dec, odec)) &&
         (dec_skip == odec_skip || oracle_dropped_bom(dec_skip, odec_skip));
    if (!ok && ++bad <= 8) {
      ADD_FAILURE() << tag << " record " << i << " " << show(texts[i]) << "\n  oracle ids "
                    << json(plain).dump().substr(0, 300) << "\n  ours       "
                    << json(ours).dump().substr(0, 300) << "\n  oracle decode "
                    << show(rows[i][2].get<std::string>()) << "\n  ours decode   " << show(dec);
    }
  }
  EXPECT_EQ(bad, 0u) << tag << ": " << bad << " of " << texts.size() << " records differ";
  EXPECT_GT(special_checked, texts.size() / 20) << tag;
}

// Runs the oracle for several tokenizer directories at once (one node process each).
std::vector<std::vector<json>> oracle_parallel(const fs::path& modules, const std::vector<fs::path>& dirs,
                                               const std::vector<std::string>& texts, int special_every) {
  std::string bytes = corpus_bytes(texts);
  std::vector<std::future<std::vector<json>>> runs;
  for (const auto& d : dirs) {
    runs.push_back(
        std::async(std::launch::async, [&, d] { return oracle_rows(modules, d, bytes, special_every); }));
  }
  std::vector<std::vector<json>> out;
  for (auto& r : runs) out.push_back(r.get());
  return out;
}

TEST(TokenizerOracle, Qwen3AndLlama31MatchJavaScriptOnRealCorpus) {
  UM_REQUIRE_SHARED(qwen, "tokenizers/qwen3");
  UM_REQUIRE_SHARED(llama, "tokenizers/llama3_1");
  UM_REQUIRE_SHARED(data, "data");
  UM_REQUIRE_ORACLE(modules);
  auto texts = um::testing::tokenizer_corpus(data);
  ASSERT_GT(texts.size(), 40000u);
  auto rows = oracle_parallel(modules, {qwen, llama}, texts, 10);
  compare(Tokenizer::load(qwen), texts, rows[0], "qwen3");
  compare(Tokenizer::load(llama), texts, rows[1], "llama3_1");
}

// A subset keeps the variant runs short: the adversarial strings plus every 25th real record.
std::vector<std::string> sample(const fs::path& data) {
  std::vector<std::string> out = um::testing::adversarial_strings();
  auto all = um::testing::tokenizer_corpus(data);
  for (size_t i = 0; i < all.size(); i += 25) out.push_back(all[i]);
  return out;
}

// Writes a variant of a real tokenizer.json (edited by `edit`) into a temp dir.
fs::path variant(const fs::path& src, const std::string& tag, const std::function<void(json&)>& edit) {
  json tok = json::parse(util::read_file(src / "tokenizer.json"));
  edit(tok);
  fs::path dir = um::testing::temp_dir(tag);
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  fs::copy_file(src / "tokenizer_config.json", dir / "tokenizer_config.json");
  return dir;
}

// A small Llama-2 style (SentencePiece converted) tokenizer: Prepend + Replace normalizer, no
// pre-tokenizer (whole segments are one BPE word), byte fallback, fused unknowns, ASCII-only
// characters so that everything else goes through <0xXX> tokens, and the Llama-2 decoder chain.
fs::path sentencepiece_style() {
  json vocab = json::object();
  int32_t id = 0;
  for (const char* t : {"<unk>", "<s>", "</s>"}) vocab[t] = id++;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = id++;
  }
  vocab["\u2581"] = id++;
  for (char c = '!'; c <= '~'; ++c) vocab[std::string(1, c)] = id++;
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"\u2581", "t"},   {"h", "e"},       {"\u2581t", "he"},
      {"i", "n"},        {"in", "g"},      {"\u2581", "a"},
      {"e", "r"},        {"o", "n"},       {"\u2581a", "n"},
      {"\u2581an", "d"}, {"r", "e"},       {"e", "d"},
      {"\u2581", "o"},   {"\u2581o", "f"}, {"\u2581", "\u2581"},
      {"\u2581", "i"},   {"o", "r"},       {"\u2581i", "s"},
      {"e", "s"},        {"\u2581", "w"},  {"a", "t"},
      {"e", "n"},        {"\u2581", "s"},  {"\u2581\u2581", "\u2581\u2581"},
      {"1", "2"},        {"<", "|"},       {"|", ">"}};
  json jm = json::array();
  for (const auto& [a, b] : merges) {
    if (!vocab.contains(a + b)) vocab[a + b] = id++;
    jm.push_back(a + " " + b);
  }
  auto added = [](int32_t i, const char* c) {
    return json{{"id", i},         {"content", c},        {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  json tok = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", json::array({added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")})},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}},
                      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}})}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array()},
        {"special_tokens",
         {{"<s>", {{"id", "<s>"}, {"ids", json::array({1})}, {"tokens", json::array({"<s>"})}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", jm}}}};
  fs::path dir = um::testing::temp_dir("tok-spm");
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  std::ofstream(dir / "tokenizer_config.json") << json{
      {"bos_token", "<s>"},
      {"eos_token", "</s>"},
      {"clean_up_tokenization_spaces", false},
      {"tokenizer_class", "PreTrainedTokenizerFast"}}.dump();
  return dir;
}

// The other pipeline pieces, on real vocabularies: GPT-2's ByteLevel pre-tokenizer (own regex,
// prefix space), Digits + lowercase + lstrip/rstrip added tokens, and a Metaspace pipeline.
TEST(TokenizerOracle, PipelineVariantsMatchJavaScript) {
  UM_REQUIRE_SHARED(qwen, "tokenizers/qwen3");
  UM_REQUIRE_SHARED(data, "data");
  UM_REQUIRE_ORACLE(modules);
  std::vector<fs::path> dirs;
  dirs.push_back(variant(qwen, "tok-gpt2", [](json& t) {
    t["normalizer"] = nullptr;
    t["pre_tokenizer"] = {
        {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  }));
  dirs.push_back(variant(qwen, "tok-digits", [](json& t) {
    t["normalizer"] = {{"type", "Sequence"},
                       {"normalizers", json::array({{{"type", "NFKC"}}, {{"type", "Lowercase"}}})}};
    t["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Digits"}, {"individual_digits", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}})}};
    for (auto& a : t["added_tokens"]) {
      if (a["content"] == "<|im_start|>") a["rstrip"] = true;
      if (a["content"] == "<|im_end|>") a["lstrip"] = true;
    }
  }));
  dirs.push_back(sentencepiece_style());
  auto texts = sample(data);
  auto rows = oracle_parallel(modules, dirs, texts, 1);
  compare(Tokenizer::load(dirs[0]), texts, rows[0], "gpt2-style");
  compare(Tokenizer::load(dirs[1]), texts, rows[1], "digits-nfkc-lowercase");
  compare(Tokenizer::load(dirs[2]), texts, rows[2], "sentencepiece-style");
}

}  // namespace
}  // namespace um::text
