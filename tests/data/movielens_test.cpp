// MovieLens readers on the real files in ../shared/data (counts from each folder's SOURCE.md).
#include <gtest/gtest.h>

#include "data/prepare_helpers.h"

namespace um::testing {
namespace {

TEST(MovieLens, Ml100kCountsAndLatin1Titles) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  Prepared p = run_prepare("ml-100k", raw);
  EXPECT_EQ(p.interactions.size(), 100000u);
  EXPECT_EQ(p.users.size(), 943u);
  EXPECT_EQ(p.items.size(), 1682u);
  auto items = p.item_by_id();
  // u.item is ISO-8859-1: byte 0xE9 must come out as U+00E9.
  EXPECT_EQ(items.at("1")["item_description"]["title"], "Toy Story (1995)");
  EXPECT_EQ(items.at("1")["item_description"]["genres"], "Animation|Children's|Comedy");
  EXPECT_EQ(items.at("1")["item_description"]["year"], "1995");
  bool found_e_acute = false;
  for (const auto& [id, it] : items)
    if (it["item_description"]["title"].get<std::string>().find("\xC3\xA9") != std::string::npos)
      found_e_acute = true;
  EXPECT_TRUE(found_e_acute);
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("1")["user_description"]["gender"], "male");
  EXPECT_EQ(users.at("1")["user_description"]["age"], "24");
  EXPECT_EQ(users.at("1")["user_description"]["occupation"], "technician");
  EXPECT_EQ(users.at("1")["user_features"]["zip_code"], "85711");
  // u.data line 1: "196 242 3 881250949".
  EXPECT_EQ(p.interactions[0]["user_id"], "196");
  EXPECT_EQ(p.interactions[0]["item_id"], "242");
  EXPECT_EQ(p.interactions[0]["timestamp"], "1997-12-04 15:55:49");
  EXPECT_EQ(p.interactions[0]["behavior_features"]["rating"], 3.0);
}

TEST(MovieLens, Ml1mSharedSubset) {
  UM_REQUIRE_SHARED(raw, "data/ml-1m");
  Prepared p = run_prepare("ml-1m", raw);
  EXPECT_EQ(p.interactions.size(), 487650u);  // ratings of users 1-2,999 (SOURCE.md)
  EXPECT_EQ(p.users.size(), 2999u);           // users without ratings in the subset are dropped
  EXPECT_EQ(p.items.size(), 3883u);
  EXPECT_EQ(p.stat("dropped: users without interactions"), 6040u - 2999u);
  auto users = p.user_by_id();
  // users.dat line 1: "1::F::1::10::48067".
  EXPECT_EQ(users.at("1")["user_description"]["gender"], "female");
  EXPECT_EQ(users.at("1")["user_description"]["age"], "Under 18");
  EXPECT_EQ(users.at("1")["user_description"]["occupation"], "K-12 student");
  // Age code 56 maps to the README's "56+" (the reference writes "Unknown", §11.9).
  bool saw56 = false;
  for (const auto& [id, u] : users) saw56 = saw56 || u["user_description"]["age"] == "56+";
  EXPECT_TRUE(saw56);
  auto items = p.item_by_id();
  EXPECT_EQ(items.at("1")["item_description"]["title"], "Toy Story (1995)");
  // movies.dat is ISO-8859-1 (e.g. movie 3 is plain; check a decoded accent somewhere).
  bool accent = false;
  for (const auto& [id, it] : items)
    if (it["item_description"]["title"].get<std::string>().find("\xC3\xA9") != std::string::npos)
      accent = true;
  EXPECT_TRUE(accent);
  EXPECT_EQ(p.interactions[0]["timestamp"], "2000-12-31 22:12:40");  // 978300760 UTC
}

TEST(MovieLens, LatestSmallQuotedCsvCrlf) {
  UM_REQUIRE_SHARED(raw, "data/ml-latest-small");
  Prepared p = run_prepare("ml-latest-small", raw);
  EXPECT_EQ(p.interactions.size(), 100836u);
  EXPECT_EQ(p.users.size(), 610u);
  EXPECT_EQ(p.items.size(), 9742u);
  auto items = p.item_by_id();
  // movies.csv quotes titles with commas: 11,"American President, The (1995)",Comedy|Drama|Romance
  EXPECT_EQ(items.at("11")["item_description"]["title"], "American President, The (1995)");
  EXPECT_EQ(items.at("11")["item_description"]["genres"], "Comedy|Drama|Romance");  // no '\r' left
  EXPECT_EQ(p.interactions[0]["behavior_features"]["rating"], 4.0);
  for (const auto& x : p.interactions)
    ASSERT_EQ(x["item_id"].get<std::string>().find('\r'), std::string::npos);
}

}  // namespace
}  // namespace um::testing
