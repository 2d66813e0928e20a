// Prompt lookup order and `prompts import` digest verification (accept and reject).
#include "text/prompt_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "util/error.h"

namespace {

namespace fs = std::filesystem;

// tests/fixtures/prompts/released_train_synthetic.jsonl carries this synthetic system prompt; its
// digest was computed independently with sha256sum.
const std::string kSyntheticPrompt =
    "You are a synthetic test prompt.\nIt only exists to test prompt import.\n";
const std::string kSyntheticSha256 = "a0fa1e4ebf65ca633f649918f36254e6c26ff92b766e8fa7d6032aa5dc24e9ff";

fs::path fixture(const std::string& name) {
  return um::testing::source_dir() / "tests/fixtures/prompts" / name;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(PromptStore, Sha256KnownVectors) {
  EXPECT_EQ(um::text::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(um::text::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(um::text::sha256_hex(kSyntheticPrompt), kSyntheticSha256);
}

TEST(PromptStore, ImportAcceptsTheExpectedDigest) {
  auto out = um::testing::temp_dir("prompts-import");
  um::text::PromptImportOptions opts;
  opts.from = fixture("released_train_synthetic.jsonl");
  opts.out_dir = out;
  opts.default_sha256 = kSyntheticSha256;
  auto r = um::text::import_authors_prompts(opts);
  EXPECT_EQ(r.rows, 3u);
  EXPECT_EQ(r.distinct_system_prompts, 1u);
  ASSERT_EQ(r.written.size(), 1u);  // no direct prompt in a train set
  EXPECT_EQ(r.written[0].name, "authors-default");
  EXPECT_EQ(slurp(out / "authors-default.txt"), kSyntheticPrompt);
  // And it is then found by name through --prompts-dir.
  EXPECT_EQ(um::text::load_prompt("authors-default", out), kSyntheticPrompt);
}

TEST(PromptStore, ImportRejectsOtherDigests) {
  auto out = um::testing::temp_dir("prompts-reject");
  um::text::PromptImportOptions opts;
  opts.from = fixture("released_train_synthetic.jsonl");
  opts.out_dir = out;  // default_sha256 = the authors' digest, which the synthetic prompt does not have
  try {
    um::text::import_authors_prompts(opts);
    FAIL() << "accepted a prompt with the wrong digest";
  } catch (const um::util::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(std::string(um::text::kAuthorsDefaultSha256)), std::string::npos) << msg;
    EXPECT_NE(msg.find(kSyntheticSha256), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(out / "authors-default.txt"));
  // One changed character: rejected even when expecting the synthetic digest.
  opts.from = fixture("released_train_tampered.jsonl");
  opts.default_sha256 = kSyntheticSha256;
  EXPECT_THROW(um::text::import_authors_prompts(opts), um::util::Error);
  EXPECT_FALSE(fs::exists(out / "authors-default.txt"));
}

// A fake clone of the authors' repository: template.py holds the synthetic prompts (digests computed
// independently with sha256sum) in the forms Python allows — a triple-quoted literal, implicitly
// concatenated literals with escapes, and quotes inside comments and other strings.
const std::string kSyntheticDirect = "You are a direct test prompt.\n";
const std::string kSyntheticDirectSha256 = "bf1556c4cc05e5d771a9feb24704215a18800a66efe6c53c117e87d968ef07f9";

fs::path fake_repo(const std::string& tag) {
  fs::path repo = um::testing::temp_dir(tag);
  fs::create_directories(repo / "usermirrorer" / "generator");
  std::ofstream(repo / "usermirrorer" / "generator" / "template.py")
      << "# Prompts \"quoted\" in a comment, and an apostrophe: it's\n"
         "SYSTEM_PROMPT = \"\"\"You are a synthetic test prompt.\n"
         "It only exists to test prompt import.\n"
         "\"\"\"\n"
         "DIRECT_PROMPT = (\"You are a \"  # comment between parts\n"
         "                 'direct test prompt.\\n')\n"
         "USER = r'\\n{profile}' + f\"{x}\"\n";
  return repo;
}

TEST(PromptStore, PythonStringLiterals) {
  auto v = um::text::python_string_literals(
      "a = 'x\\ty' \"z\"\nb = r'\\n' + \"\"\"q\"\"\" # 'no'\nc = '\\x41\\101\\u00e9'\n");
  std::vector<std::string> want = {"x\ty", "z", "\\n", "q", "AA\u00e9", "x\tyz"};
  EXPECT_EQ(v, want);
}

TEST(PromptStore, ImportFromRepoWritesBothIntoTheUserDataDirectory) {
  auto data_home = um::testing::temp_dir("prompts-xdg");
  ::setenv("XDG_DATA_HOME", data_home.c_str(), 1);
  EXPECT_EQ(um::text::user_prompts_dir(), data_home / "usermirror" / "prompts");
  um::text::PromptImportOptions opts;
  opts.from_repo = fake_repo("prompts-repo");
  opts.default_sha256 = kSyntheticSha256;  // the test hook: digests of the synthetic texts
  opts.direct_sha256 = kSyntheticDirectSha256;
  auto r = um::text::import_authors_prompts(opts);
  ASSERT_EQ(r.written.size(), 2u);
  EXPECT_EQ(r.written[0].name, "authors-default");
  EXPECT_EQ(r.written[1].name, "authors-direct");
  const fs::path dir = data_home / "usermirror" / "prompts";
  EXPECT_EQ(slurp(dir / "authors-default.txt"), kSyntheticPrompt);
  EXPECT_EQ(slurp(dir / "authors-direct.txt"), kSyntheticDirect);
  // Every command finds them by name without --prompts-dir, and `prompts list` shows them.
  EXPECT_EQ(um::text::load_prompt("authors-direct"), kSyntheticDirect);
  bool listed = false;
  for (const auto& p : um::text::list_prompts())
    listed = listed || (p.name == "authors-default" && p.sha256 == kSyntheticSha256);
  EXPECT_TRUE(listed);
  ::unsetenv("XDG_DATA_HOME");
}

TEST(PromptStore, ImportFromRepoRejectsOtherDigests) {
  auto out = um::testing::temp_dir("prompts-repo-reject");
  um::text::PromptImportOptions opts;
  opts.from_repo = fake_repo("prompts-repo-2");
  opts.out_dir = out;  // the authors' digests, which the synthetic texts do not have
  try {
    um::text::import_authors_prompts(opts);
    FAIL() << "accepted a repository without the authors' prompts";
  } catch (const um::util::Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::string(um::text::kAuthorsDefaultSha256)), std::string::npos);
  }
  // Right default digest, wrong direct one: nothing is written.
  opts.default_sha256 = kSyntheticSha256;
  EXPECT_THROW(um::text::import_authors_prompts(opts), um::util::Error);
  EXPECT_FALSE(fs::exists(out / "authors-default.txt"));
  EXPECT_FALSE(fs::exists(out / "authors-direct.txt"));
  opts.from_repo = out;  // not a clone
  EXPECT_THROW(um::text::import_authors_prompts(opts), um::util::Error);
  opts.from = fixture("released_train_synthetic.jsonl");  // two sources
  EXPECT_THROW(um::text::import_authors_prompts(opts), um::util::Error);
}

TEST(PromptStore, SearchOrderAndErrors) {
  auto a = um::testing::temp_dir("prompts-a");
  auto b = um::testing::temp_dir("prompts-b");
  std::ofstream(a / "reasoning-v1.txt") << "override from --prompts-dir";
  std::ofstream(b / "reasoning-v1.txt") << "override from env";
  std::ofstream(b / "only-env.txt") << "env";
  ::setenv("UM_PROMPTS_DIR", b.c_str(), 1);
  EXPECT_EQ(um::text::load_prompt("reasoning-v1", a), "override from --prompts-dir");
  EXPECT_EQ(um::text::load_prompt("reasoning-v1"), "override from env");
  EXPECT_EQ(um::text::load_prompt("only-env", a), "env");
  auto listed = um::text::list_prompts(a);
  bool has_direct = false;
  for (const auto& p : listed) has_direct = has_direct || p.name == "direct-v1";
  EXPECT_TRUE(has_direct);  // the source tree's prompts/ is still searched last
  ::unsetenv("UM_PROMPTS_DIR");
  std::string missing;
  try {
    um::text::load_prompt("authors-default", a);
  } catch (const um::util::Error& e) {
    missing = e.what();
  }
  EXPECT_NE(missing.find("prompts import"), std::string::npos) << missing;
  EXPECT_THROW(um::text::load_prompt("../etc/passwd"), um::util::Error);
  EXPECT_THROW(um::text::load_prompt("x", a / "does-not-exist"), um::util::Error);
}

}  // namespace
