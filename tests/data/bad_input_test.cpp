// Bad input: a malformed line, a missing required field or undecodable text fails with file:line
// and field; with skip_bad it is counted per reason; a failed run leaves no (partial) output.
#include <gtest/gtest.h>

#include <fstream>

#include "data/prepare_helpers.h"
#include "util/error.h"

namespace um::testing {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A tiny ml-1m folder whose ratings.dat has the given lines.
fs::path ml1m_with_ratings(const std::string& ratings) {
  auto raw = temp_dir("bad-ml1m");
  write(raw / "ratings.dat", ratings);
  write(raw / "movies.dat", "1::Toy Story (1995)::Animation\n2::Caf\xE9 (1999)::Drama\n");
  write(raw / "users.dat", "1::F::1::10::48067\n");
  return raw;
}

util::Error prepare_error(const std::string& dataset, const fs::path& raw) {
  auto work = temp_dir("bad-work");
  try {
    data::prepare({.dataset = dataset, .raw_dir = raw, .work_dir = work});
  } catch (const util::Error& e) {
    EXPECT_FALSE(fs::exists(work / data::interaction_file(dataset))) << "failed run left output";
    return e;
  }
  ADD_FAILURE() << "prepare did not fail";
  return util::Error("none");
}

const std::string kFiveRatings =
    "1::1::5::978300760\n1::2::3::978300761\n1::1::4::978300762\n1::2::2::978300763\n1::1::1::978300764\n";

TEST(BadInput, MalformedLineFailsWithFileLineField) {
  auto raw = ml1m_with_ratings(kFiveRatings + "1::2::5\n");
  util::Error e = prepare_error("ml-1m", raw);
  EXPECT_EQ(e.where().line, 6);
  EXPECT_EQ(e.where().file, (raw / "ratings.dat").string());
  EXPECT_EQ(e.where().field, "rating line");
  EXPECT_NE(std::string(e.what()).find("ratings.dat:6"), std::string::npos) << e.what();
}

TEST(BadInput, BadNumberNamesTheField) {
  util::Error e = prepare_error("ml-1m", ml1m_with_ratings("1::1::five::978300760\n"));
  EXPECT_EQ(e.where().line, 1);
  EXPECT_EQ(e.where().field, "rating");
}

TEST(BadInput, SkipBadCountsPerReason) {
  auto raw = ml1m_with_ratings(kFiveRatings + "1::2::5\n1::1::x::978300765\n1::1::4::soon\n2::2\n");
  auto p = run_prepare("ml-1m", raw, {}, /*skip_bad=*/true);
  EXPECT_EQ(p.interactions.size(), 5u);
  EXPECT_EQ(p.result.skipped.at("wrong field count"), 2u);
  EXPECT_EQ(p.result.skipped.at("bad number in rating"), 1u);
  EXPECT_EQ(p.result.skipped.at("bad integer in timestamp"), 1u);
  // movies.dat is Latin-1: 0xE9 decodes to U+00E9.
  EXPECT_EQ(p.item_by_id().at("2")["item_description"]["title"], "Caf\u00e9 (1999)");
}

TEST(BadInput, MissingRequiredJsonField) {
  auto raw = temp_dir("bad-amazon");
  write(raw / "Cat_5.json",
        "{\"overall\": 5.0, \"reviewerID\": \"A1\", \"asin\": \"B1\", \"unixReviewTime\": 1}\n"
        "{\"overall\": 5.0, \"asin\": \"B1\", \"unixReviewTime\": 2}\n"
        "{\"overall\": 5.0, \"reviewerID\": \"A1\", \"asin\": \"B1\", \"unixReviewTime\": 3\n");
  write(raw / "meta_Cat.json", "{\"asin\": \"B1\", \"title\": \"t\", \"details\": {\"a\": 1, \"b\": 2}}\n");
  util::Error e = prepare_error("Amazon-Cat", raw);
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().field, "reviewerID");
  auto p = run_prepare("Amazon-Cat", raw, {}, true);
  EXPECT_EQ(p.result.skipped.at("missing reviewerID"), 1u);
  EXPECT_EQ(p.result.skipped.at("invalid JSON line"), 1u);
}

TEST(BadInput, UndecodableTextInUtf8Dataset) {
  auto raw = temp_dir("bad-mind");
  write(raw / "news.tsv",
        "N1\tnews\tpolitics\tGood title\tabs\turl\t[]\t[]\nN2\tnews\tx\tBad \xFF title\t\turl\t[]\t[]\n");
  write(raw / "behaviors.tsv", "1\tU1\t11/12/2019 2:14:46 PM\tN1 N1 N1 N1 N1\tN1-1 N2-0\n");
  util::Error e = prepare_error("MIND", raw);
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().field, "news line");
  EXPECT_NE(e.message().find("UTF-8"), std::string::npos);
  auto p = run_prepare("MIND", raw, {}, true);
  EXPECT_EQ(p.result.skipped.at("invalid UTF-8"), 1u);
  ASSERT_EQ(p.interactions.size(), 1u);
  EXPECT_EQ(p.interactions[0]["timestamp"], "2019-11-12 14:14:46");  // PM read on a 12-hour clock
}

TEST(BadInput, PythonLiteralLine) {
  auto raw = temp_dir("bad-steam");
  write(raw / "steam_games.json", "{u'id': u'1', u'app_name': u'A'}\n{u'id': u'2', u'app_name': u'B\n");
  write(raw / "steam_reviews.json", "{u'username': u'x', u'product_id': u'1', u'date': u'2017-01-01'}\n");
  util::Error e = prepare_error("steam", raw);
  EXPECT_EQ(e.where().line, 2);
  EXPECT_NE(e.message().find("unterminated string"), std::string::npos) << e.message();
  auto p = run_prepare("steam", raw, {.min_user_interactions = 1}, true);
  EXPECT_EQ(p.result.skipped.at("invalid Python literal line"), 1u);
  EXPECT_EQ(p.items.size(), 1u);
}

TEST(BadInput, FailedRunKeepsPreviousOutputIntact) {
  auto raw = ml1m_with_ratings(kFiveRatings);
  auto work = temp_dir("atomic");
  data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = work});
  auto before = read_jsonl(work / data::interaction_file("ml-1m"));
  ASSERT_EQ(before.size(), 5u);
  write(raw / "ratings.dat", kFiveRatings + "broken\n");
  EXPECT_THROW(data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = work}), util::Error);
  EXPECT_EQ(read_jsonl(work / data::interaction_file("ml-1m")), before);
  for (const auto& e : fs::directory_iterator(work / "raws"))  // no temporaries left behind
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(BadInput, UnknownDatasetAndMissingFiles) {
  auto raw = temp_dir("empty");
  try {
    data::prepare({.dataset = "nope", .raw_dir = raw, .work_dir = temp_dir("w")});
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("MIND"), std::string::npos) << "known names listed: " << e.what();
  }
  for (const char* ds : {"MIND", "Amazon-X", "LastFM", "KuaiRec2", "steam", "goodreads", "mobilerec"})
    EXPECT_THROW(data::prepare({.dataset = ds, .raw_dir = raw, .work_dir = temp_dir("w")}), util::Error)
        << ds;
}

}  // namespace
}  // namespace um::testing
