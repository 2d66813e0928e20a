// write_dataset → load from JSONL and from the binary cache give equal datasets; a stale or
// corrupt cache is ignored; reference-written files (integer ids, epoch numbers, MIND times) load.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "data/prepare_helpers.h"

namespace um::testing {
namespace {

namespace fs = std::filesystem;

data::Dataset sample() {
  data::Dataset ds;
  ds.name = "rt";
  ds.users = {{"u1", R"({"gender":"female","age":"Under 18"})", "{}"},
              {"u\"2", "{}", R"({"history":["a","b"]})"}};
  ds.items = {{"i1", R"({"title":"Caf\u00e9 \"x\"","year":null})", R"({"year":1995})"}, {"i2", "{}", "{}"}};
  ds.interactions = {{"u1", "i1", 978300760000000, R"({"rating":5.0})"},
                     {"u\"2", "i2", 1593898068378000, R"({"impression_list":["i1","i2"],"item_pos":1})"},
                     {"u1", "i2", -86400000000, "{}"}};
  return ds;
}

void expect_equal(const data::Dataset& a, const data::Dataset& b) {
  ASSERT_EQ(a.users.size(), b.users.size());
  ASSERT_EQ(a.items.size(), b.items.size());
  ASSERT_EQ(a.interactions.size(), b.interactions.size());
  for (size_t i = 0; i < a.users.size(); ++i) {
    EXPECT_EQ(a.users[i].id, b.users[i].id);
    EXPECT_EQ(nlohmann::json::parse(a.users[i].description), nlohmann::json::parse(b.users[i].description));
    EXPECT_EQ(nlohmann::json::parse(a.users[i].features), nlohmann::json::parse(b.users[i].features));
  }
  for (size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].id, b.items[i].id);
    EXPECT_EQ(nlohmann::json::parse(a.items[i].description), nlohmann::json::parse(b.items[i].description));
    EXPECT_EQ(nlohmann::json::parse(a.items[i].features), nlohmann::json::parse(b.items[i].features));
  }
  for (size_t i = 0; i < a.interactions.size(); ++i) {
    EXPECT_EQ(a.interactions[i].user_id, b.interactions[i].user_id);
    EXPECT_EQ(a.interactions[i].item_id, b.interactions[i].item_id);
    EXPECT_EQ(a.interactions[i].timestamp_us, b.interactions[i].timestamp_us);
    EXPECT_EQ(nlohmann::json::parse(a.interactions[i].behavior),
              nlohmann::json::parse(b.interactions[i].behavior));
  }
}

TEST(DatasetIo, RoundTripJsonlAndCache) {
  auto work = temp_dir("io");
  data::Dataset ds = sample();
  data::write_dataset(work, ds);
  expect_equal(ds, data::read_dataset_jsonl(work, "rt"));
  data::LoadStats st;
  data::Dataset cached = data::load_dataset(work, "rt", &st);
  EXPECT_TRUE(st.from_cache);
  expect_equal(ds, cached);
}

TEST(DatasetIo, StaleCacheIsIgnored) {
  auto work = temp_dir("io-stale");
  data::Dataset ds = sample();
  data::write_dataset(work, ds);
  // Someone edits the interactions file after prepare: the cache no longer matches it.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::ofstream out(work / data::interaction_file("rt"), std::ios::app);
    out << R"({"user_id":"u9","item_id":"i1","timestamp":"2001-01-01 00:00:00","behavior_features":{}})"
        << "\n";
  }
  data::LoadStats st;
  data::Dataset d = data::load_dataset(work, "rt", &st);
  EXPECT_FALSE(st.from_cache);
  ASSERT_EQ(d.interactions.size(), 4u);
  EXPECT_EQ(d.interactions[3].user_id, "u9");
}

TEST(DatasetIo, CorruptCacheIsIgnored) {
  auto work = temp_dir("io-corrupt");
  data::write_dataset(work, sample());
  fs::path cache = work / data::cache_file("rt");
  auto size = fs::file_size(cache);
  {
    std::fstream f(cache, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char c;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    c = static_cast<char>(c ^ 0x5A);
    f.write(&c, 1);
  }
  // Only the cache's bytes changed (its checksum no longer matches): the JSONL files are read.
  data::LoadStats st;
  data::Dataset d = data::load_dataset(work, "rt", &st);
  EXPECT_FALSE(st.from_cache);
  expect_equal(sample(), d);
}

TEST(DatasetIo, ReadsReferenceWrittenFiles) {
  // pandas to_json output: integer ids, epoch-ms timestamps, MIND's raw time strings, "\/".
  auto work = temp_dir("io-ref");
  fs::create_directories(work / "raws");
  std::ofstream(work / data::user_file("ref")) << R"({"user_id":1,"user_description":{},"user_features":{}})"
                                               << "\n";
  std::ofstream(work / data::item_file("ref"))
      << R"({"item_id":10,"item_description":{"title":"a\/b"},"item_features":null})"
      << "\n";
  std::ofstream(work / data::interaction_file("ref"))
      << R"({"user_id":1,"item_id":10,"timestamp":978300760000,"behavior_features":{"rating":5.0}})"
      << "\n"
      << R"({"user_id":1,"item_id":10,"timestamp":"11/12/2019 2:14:46 PM","behavior_features":{}})"
      << "\n";
  data::Dataset d = data::read_dataset_jsonl(work, "ref");
  EXPECT_EQ(d.users[0].id, "1");
  EXPECT_EQ(d.items[0].id, "10");
  EXPECT_EQ(nlohmann::json::parse(d.items[0].description)["title"], "a/b");
  EXPECT_EQ(d.items[0].features, "{}");
  EXPECT_EQ(d.interactions[0].timestamp_us, 978300760000000);
  EXPECT_EQ(d.interactions[1].timestamp_us, 1573568086000000);
}

TEST(DatasetIo, PreparedRealDatasetCacheEqualsJsonl) {
  UM_REQUIRE_SHARED(raw, "data/mind/MINDsmall_train");
  auto p = run_prepare("MIND", raw);
  data::LoadStats st;
  data::Dataset cached = data::load_dataset(p.work, "MIND", &st);
  EXPECT_TRUE(st.from_cache);
  expect_equal(data::read_dataset_jsonl(p.work, "MIND"), cached);
}

}  // namespace
}  // namespace um::testing
