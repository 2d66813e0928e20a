// prepare --compat reference (docs/reference-differences.md): ml-1m keeps every users.dat line and
// writes the reference's age labels; without the switch neither happens.
#include <gtest/gtest.h>

#include <fstream>

#include "data/prepare_helpers.h"

namespace um::testing {
namespace {

// A hand-written ml-1m folder in the official "::" layout: user 4 has no ratings; ages 45, 50, 56.
std::filesystem::path tiny_ml1m() {
  const auto dir = temp_dir("compat-ml1m");
  std::ofstream(dir / "ratings.dat") << "1::10::5::978300760\n1::20::3::978300761\n2::10::4::978300762\n"
                                        "3::20::2::978300763\n";
  std::ofstream(dir / "movies.dat") << "10::Movie A (1995)::Drama\n20::Movie B (1996)::Comedy\n";
  std::ofstream(dir / "users.dat") << "1::F::45::10::48067\n2::M::50::16::70072\n3::M::56::15::55117\n"
                                      "4::F::25::7::02460\n";
  return dir;
}

Prepared prepare_with(const std::filesystem::path& raw, data::Compat compat) {
  Prepared p;
  p.work = temp_dir("compat-prep");
  data::FilterOptions f;
  f.min_user_interactions = 1;
  p.result =
      data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = p.work, .filters = f, .compat = compat});
  p.users = read_jsonl(p.work / data::user_file("ml-1m"));
  p.interactions = read_jsonl(p.work / data::interaction_file("ml-1m"));
  return p;
}

TEST(PrepareCompat, Ml1mReferenceAgesAndUsersWithoutRatings) {
  const auto raw = tiny_ml1m();
  const Prepared ours = prepare_with(raw, data::Compat::usermirror);
  ASSERT_EQ(ours.users.size(), 3u);  // user 4 has no rating
  EXPECT_EQ(ours.user_by_id().at("1")["user_description"]["age"], "45-49");
  EXPECT_EQ(ours.user_by_id().at("2")["user_description"]["age"], "50-55");
  EXPECT_EQ(ours.user_by_id().at("3")["user_description"]["age"], "56+");

  const Prepared ref = prepare_with(raw, data::Compat::reference);
  ASSERT_EQ(ref.users.size(), 4u);  // every users.dat line, in file order
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(ref.users[i]["user_id"], std::to_string(i + 1));
  auto users = ref.user_by_id();
  EXPECT_EQ(users.at("1")["user_description"]["age"], "45+");
  EXPECT_EQ(users.at("2")["user_description"]["age"], "Unknown");
  EXPECT_EQ(users.at("3")["user_description"]["age"], "Unknown");
  EXPECT_EQ(users.at("4")["user_description"]["age"], "25-34");
  EXPECT_EQ(users.at("4")["user_description"]["occupation"], "executive/managerial");
  EXPECT_EQ(ref.interactions, ours.interactions);  // interactions are the same either way
  EXPECT_EQ(ref.stat("users without interactions kept (--compat reference)"), 1u);
  EXPECT_EQ(ref.stat("dropped: users without interactions"), 0u);
}

TEST(PrepareCompat, Ml1mSharedWritesAllUsers) {
  UM_REQUIRE_SHARED(raw, "data/ml-1m");
  Prepared p;
  p.work = temp_dir("compat-ml1m-shared");
  p.result = data::prepare(
      {.dataset = "ml-1m", .raw_dir = raw, .work_dir = p.work, .compat = data::Compat::reference});
  p.users = read_jsonl(p.work / data::user_file("ml-1m"));
  EXPECT_EQ(p.users.size(), 6040u);  // the reference's user table (ours: 2,999 with ratings)
  EXPECT_EQ(p.result.interactions, 487650u);
}

// MobileRec: the reference reads the first 100,000 interaction rows (pandas nrows); --max-rows wins.
TEST(PrepareCompat, MobileRecFirst100kRows) {
  const auto raw = temp_dir("compat-mobilerec");
  std::filesystem::create_directories(raw / "interactions");
  std::filesystem::create_directories(raw / "app_meta");
  std::filesystem::copy_file(fixture("mobilerec") / "app_meta" / "app_meta.csv",
                             raw / "app_meta" / "app_meta.csv");
  {
    std::ofstream f(raw / "interactions" / "mobilerec_final.csv");
    f << "uid,app_package,review,rating,votes,date,formated_date,unix_timestamp,app_category\n";
    for (int i = 0; i < 100010; ++i)
      f << "u" << i << ",com.whatsapp,ok,4,0,\"October 21, 2020\",2020-10-21," << 1603238400 + i
        << ",Communication\n";
  }
  auto rows = [&](data::Compat compat, std::optional<int64_t> max_rows) {
    data::FilterOptions f;
    f.min_user_interactions = 1;
    f.max_rows = max_rows;
    const auto work = temp_dir("compat-mobilerec-work");
    return data::prepare(
               {.dataset = "mobilerec", .raw_dir = raw, .work_dir = work, .filters = f, .compat = compat})
        .interactions;
  };
  EXPECT_EQ(rows(data::Compat::usermirror, std::nullopt), 100010u);
  EXPECT_EQ(rows(data::Compat::reference, std::nullopt), 100000u);
  EXPECT_EQ(rows(data::Compat::reference, 100005), 100005u);
}

TEST(PrepareCompat, ParseCompat) {
  EXPECT_EQ(data::parse_compat("reference"), data::Compat::reference);
  EXPECT_EQ(data::parse_compat("usermirror"), data::Compat::usermirror);
  try {
    data::parse_compat("authors", {.file = "x.toml", .field = "run.compat"});
    FAIL() << "accepted an unknown compat";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().file, "x.toml");
    EXPECT_EQ(e.where().field, "run.compat");
  }
}

}  // namespace
}  // namespace um::testing
