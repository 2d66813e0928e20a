#include "backend/request_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "common/shared_data.h"
#include "util/error.h"

namespace um::backend {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::map<std::string, std::string> read_all(const std::filesystem::path& p, const std::string& stage) {
  std::map<std::string, std::string> out;
  RequestStore::read(p, stage, [&](const std::string& k, const std::string& v) {
    EXPECT_TRUE(out.emplace(k, v).second) << "duplicate key " << k;
  });
  return out;
}

TEST(RequestStore, AppendsKeyedRecordsAndReloadsKeys) {
  auto path = um::testing::temp_dir("store") / "decide.store.jsonl";
  {
    RequestStore s(path, "decide");
    EXPECT_EQ(s.size(), 0u);
    EXPECT_TRUE(s.put("ml-1m-0/teacher/0", R"({"text":"a"})"));
    EXPECT_TRUE(s.put("ml-1m-0/teacher/1", R"({"text":"b"})"));
    EXPECT_FALSE(s.put("ml-1m-0/teacher/0", R"({"text":"again"})"));  // first write wins
    EXPECT_THROW(s.put("k", "{not json"), util::Error);
  }
  std::string text = slurp(path);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            R"({"magic":"usermirror-request-store","stage":"decide","version":1})");
  RequestStore again(path, "decide");
  EXPECT_EQ(again.size(), 2u);
  EXPECT_TRUE(again.contains("ml-1m-0/teacher/1"));
  EXPECT_FALSE(again.contains("ml-1m-0/teacher/2"));
  EXPECT_EQ(again.truncated_bytes(), 0u);
  auto all = read_all(path, "decide");
  EXPECT_EQ(all.at("ml-1m-0/teacher/0"), R"({"text":"a"})");
}

TEST(RequestStore, TruncatesATornFinalLine) {
  auto path = um::testing::temp_dir("store-torn") / "s.jsonl";
  {
    RequestStore s(path, "score");
    s.put("a", "1");
    s.put("b", "2");
  }
  const auto clean = std::filesystem::file_size(path);
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << R"({"key":"c","val)";  // a write cut by a kill
  }
  RequestStore s(path, "score");
  EXPECT_EQ(s.truncated_bytes(), 15u);
  EXPECT_EQ(std::filesystem::file_size(path), clean);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_FALSE(s.contains("c"));
  EXPECT_TRUE(s.put("c", "3"));
  EXPECT_EQ(read_all(path, "score").size(), 3u);
}

TEST(RequestStore, RejectsForeignFilesAndCorruption) {
  auto dir = um::testing::temp_dir("store-bad");
  { std::ofstream(dir / "other.jsonl") << "{\"user_id\":1}\n"; }
  EXPECT_THROW(RequestStore(dir / "other.jsonl", "decide"), util::Error);
  {
    RequestStore s(dir / "x.jsonl", "decide");
    s.put("a", "1");
  }
  try {
    RequestStore(dir / "x.jsonl", "score");
    FAIL() << "stage mismatch must throw";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'decide'"), std::string::npos);
  }
  {
    std::ofstream out(dir / "x.jsonl", std::ios::app);
    out << "garbage\n"
        << R"({"key":"b","value":2})"
        << "\n";
  }
  try {
    RequestStore(dir / "x.jsonl", "decide");
    FAIL() << "corruption before the last line must throw";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().line, 3);
  }
  // A file that is not ours and has no newline is never truncated.
  { std::ofstream(dir / "notes.txt") << "my notes"; }
  EXPECT_THROW(RequestStore(dir / "notes.txt", "decide"), util::Error);
  EXPECT_EQ(slurp(dir / "notes.txt"), "my notes");
}

}  // namespace
}  // namespace um::backend
