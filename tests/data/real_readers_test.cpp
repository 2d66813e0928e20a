// MIND, Amazon 2018, Last.fm and KuaiRec/Steam side files on the real files in ../shared/data.
// Expected counts come from each SOURCE.md or from an independent Python computation noted inline.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "data/prepare_helpers.h"

namespace um::testing {
namespace {

namespace fs = std::filesystem;

TEST(Mind, SharedSampleFiltersAndTimes) {
  UM_REQUIRE_SHARED(raw, "data/mind/MINDsmall_train");
  Prepared p = run_prepare("MIND", raw);
  EXPECT_EQ(p.stat("impressions read"), 5000u);
  EXPECT_EQ(p.stat("news read"), 2000u);
  // awk over behaviors.tsv: history >= 5, <= 10 candidates, exactly one "-1" → 1,045 rows.
  EXPECT_EQ(p.interactions.size(), 1045u);
  EXPECT_EQ(p.items.size(), 2000u);
  EXPECT_EQ(p.stat("dropped: history shorter than 5") + p.stat("dropped: more than 10 candidates") +
                p.stat("dropped: not exactly one click") + 1045u,
            5000u);
  for (const auto& x : p.interactions) {
    const auto& b = x["behavior_features"];
    ASSERT_LE(b["impression_list"].size(), 10u);
    ASSERT_EQ(b["impression_list"][b["item_pos"].get<size_t>()], x["item_id"]);
  }
  // behaviors.tsv row "58376 U81994 11/12/2019 2:14:46 PM ..." shows the 12-hour clock read as PM.
  // First row kept: impression of U69672 at "11/12/2019 1:49:42 PM".
  EXPECT_EQ(p.interactions[0]["user_id"], "U69672");
  EXPECT_EQ(p.interactions[0]["timestamp"], "2019-11-12 13:49:42");
  auto users = p.user_by_id();
  EXPECT_GE(users.at("U69672")["user_features"]["history"].size(), 5u);
  auto items = p.item_by_id();
  const auto& n = items.at("N34700");
  EXPECT_EQ(n["item_description"]["category"], "news");
  EXPECT_EQ(n["item_description"]["subcategory"], "newspolitics");
  EXPECT_TRUE(n["item_features"]["title_entities"].is_string());
  // Item first-seen time is the chronological minimum, within the sample's date range.
  for (const auto& [id, it] : items) {
    double t = it["item_features"]["time"].get<double>();
    if (t != 0) {
      ASSERT_GE(t, 1573257600.0) << id;  // 2019-11-09 00:00 UTC
      ASSERT_LT(t, 1573776000.0) << id;  // 2019-11-15 00:00 UTC
    }
  }
}

TEST(Amazon2018, MagazineSubscriptionsDefaultsAndMapping) {
  UM_REQUIRE_SHARED(raw, "data/amazon-2018-Magazine_Subscriptions");
  Prepared p = run_prepare("Amazon-Magazine_Subscriptions", raw);
  EXPECT_EQ(p.stat("reviews read"), 2375u);
  EXPECT_EQ(p.stat("meta lines read"), 3385u);
  EXPECT_EQ(p.stat("meta duplicates (first kept)"), 3385u - 2320u);
  EXPECT_EQ(p.stat("dropped: earlier than the latest fraction"), 1662u);  // floor(2375 × 0.7)
  // Independent pandas-free Python computation of §2.4 on these files: 384 reviews, 87 users,
  // 45 items: the metadata table cut to items with >= 5 down-sampled reviews, rating_number >= 10
  // and > 1 details key (all 45 are reviewed; the 36 never-reviewed items passing only the metadata
  // filters are not in the pool).
  EXPECT_EQ(p.interactions.size(), 384u);
  EXPECT_EQ(p.users.size(), 87u);
  EXPECT_EQ(p.items.size(), 45u);
  for (const auto& it : p.items) {
    const auto& d = it["item_description"];
    ASSERT_GE(d["rating_number"].get<int64_t>(), 10);
    ASSERT_EQ(d["title"].get<std::string>().find('<'), std::string::npos) << "HTML left in " << d["title"];
    ASSERT_EQ(d["category"].get<std::string>().find("&amp;"), std::string::npos);
  }
  for (const auto& x : p.interactions) {
    ASSERT_TRUE(x["behavior_features"]["rating"].is_number_integer());
    ASSERT_TRUE(x["behavior_features"]["review_text"].is_string());
  }
}

TEST(Amazon2018, OverridesKeepEverything) {
  UM_REQUIRE_SHARED(raw, "data/amazon-2018-Magazine_Subscriptions");
  data::FilterOptions f;
  f.keep_latest_fraction = 1.0;
  f.min_rating_number = 0;
  f.min_user_interactions = 0;
  f.min_item_interactions = 0;
  Prepared p = run_prepare("Amazon-Magazine_Subscriptions", raw, f);
  EXPECT_EQ(p.stat("dropped: earlier than the latest fraction"), 0u);
  EXPECT_EQ(p.users.size(), 348u);  // every reviewer of the 5-core file
  // Only reviews of items without metadata or with < 2 details keys remain filtered.
  EXPECT_EQ(p.interactions.size() + p.stat("dropped: item without metadata, rating_number or details"),
            2375u);
  auto items = p.item_by_id();
  // Never-reviewed items are not in the pool even with every filter off (docs/method.md §2.4).
  EXPECT_EQ(items.count("B00005N7OC"), 0u);
  // B00005N7P0 (6 reviews): details {"Format:", "Shipping: ", "Publisher:", "ASIN: "} → "k: v" parts.
  const auto& d = items.at("B00005N7P0")["item_description"];
  EXPECT_EQ(d["store"], "Future US, Inc.");
  EXPECT_EQ(d["category"], "Magazine Subscriptions-Technology-Computers & Internet");
  EXPECT_EQ(d["description"].get<std::string>().rfind("Format: Print Magazine;Shipping: ", 0), 0u);
  EXPECT_EQ(d["description"].get<std::string>().back(), '\n');
  EXPECT_EQ(d["price"], "NA");  // "" in the 2018 file
}

TEST(LastFm, Hetrec2kTagsByArtistId) {
  UM_REQUIRE_SHARED(raw, "data/hetrec2011-lastfm-2k");
  Prepared p = run_prepare("LastFM", raw);
  EXPECT_EQ(p.users.size(), 1892u);
  EXPECT_EQ(p.items.size(), 17632u);
  EXPECT_EQ(p.stat("tag assignments read (day precision: timestamps file absent)"), 186479u);
  auto items = p.item_by_id();
  // Artist 1 is MALICE MIZER; its own most frequent tag is "j-rock" (5 of its assignments).
  EXPECT_EQ(items.at("1")["item_description"]["name"], "MALICE MIZER");
  EXPECT_EQ(items.at("1")["item_features"]["tags"][0][0], "j-rock");
  EXPECT_EQ(items.at("1")["item_features"]["tags"][0][1], 5);
  // tags.dat is ISO-8859-1: tag 4571 is "rock fran\xE7ais" → "rock français" in UTF-8.
  bool accent = false;
  for (const auto& x : p.interactions)
    for (const auto& t : x["behavior_features"]["tagValue"])
      if (t == "rock fran\u00e7ais") accent = true;
  EXPECT_TRUE(accent);
  // user_taggedartists.dat line 2: "2 52 13 1 4 2009" → day precision, UTC midnight.
  EXPECT_EQ(p.interactions[0]["user_id"], "2");
  EXPECT_EQ(p.interactions[0]["item_id"], "52");
  EXPECT_EQ(p.interactions[0]["timestamp"], "2009-04-01 00:00:00");
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("2")["user_features"]["friends"][0], "275");
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& x : p.interactions)
    ASSERT_TRUE(pairs.insert({x["user_id"].get<std::string>(), x["item_id"].get<std::string>()}).second)
        << "one interaction per (user, artist)";
}

// Quoted TSV fields as pandas reads them (the reference's read_csv, docs/method.md §2.3, §2.7),
// checked field by field against Debian's python3-pandas reading the same real files.
std::vector<nlohmann::json> pandas_rows(const std::string& kind, const fs::path& file) {
  std::vector<nlohmann::json> rows;
  std::string cmd = "/usr/bin/python3 " + (source_dir() / "tests/oracles/pandas_tsv.py").string() + " " +
                    kind + " '" + file.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return rows;
  std::string out;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (pclose(p) != 0) return {};
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

bool have_pandas() { return std::system("/usr/bin/python3 -c 'import pandas' > /dev/null 2>&1") == 0; }

#define REQUIRE_PANDAS()                                                                  \
  do {                                                                                    \
    if (!have_pandas()) {                                                                 \
      if (in_ci()) FAIL() << "/usr/bin/python3 with pandas (python3-pandas) is required"; \
      GTEST_SKIP() << "/usr/bin/python3 with pandas not available";                       \
    }                                                                                     \
  } while (0)

TEST(Mind, NewsFieldsAsPandasReadsThem) {
  UM_REQUIRE_SHARED(raw, "data/mind/MINDsmall_train");
  REQUIRE_PANDAS();
  auto oracle = pandas_rows("mind-news", raw / "news.tsv");
  ASSERT_EQ(oracle.size(), 2000u);
  Prepared p = run_prepare("MIND", raw);
  auto items = p.item_by_id();
  size_t quoted = 0;
  for (const auto& row : oracle) {
    const auto& d = items.at(row[0].get<std::string>())["item_description"];
    ASSERT_EQ(d["category"], row[1]) << row[0];
    ASSERT_EQ(d["subcategory"], row[2]) << row[0];
    ASSERT_EQ(d["title"], row[3]) << row[0];
    ASSERT_EQ(d["abstract"], row[4]) << row[0];
  }
  // news.tsv line 56: `"It's not like him:" Mother of missing man appeals for help`.
  for (const auto& [id, it] : items)
    if (it["item_description"]["title"] == "It's not like him: Mother of missing man appeals for help")
      ++quoted;
  EXPECT_EQ(quoted, 1u);
}

TEST(LastFm, ArtistNamesAsPandasReadsThem) {
  UM_REQUIRE_SHARED(raw, "data/hetrec2011-lastfm-2k");
  REQUIRE_PANDAS();
  auto oracle = pandas_rows("lastfm-artists", raw / "artists.dat");
  ASSERT_EQ(oracle.size(), 17632u);
  Prepared p = run_prepare("LastFM", raw);
  auto items = p.item_by_id();
  for (const auto& row : oracle)
    ASSERT_EQ(items.at(row[0].get<std::string>())["item_description"]["name"], row[1]) << row[0];
  EXPECT_EQ(items.at("1686")["item_description"]["name"], "Weird Al Yankovic");  // `"Weird Al" Yankovic`
}

// KuaiRec's real side files with the hand-written interaction matrix (the official matrices are
// not in ../shared): the caption file's bare '\r' records must not split.
TEST(KuaiRec, RealSideFilesWithFixtureMatrix) {
  UM_REQUIRE_SHARED(real, "data/kuairec");
  fs::path raw = temp_dir("kuairec-real");
  for (const char* f : {"item_categories.csv", "kuairec_caption_category.csv", "user_features.csv"})
    fs::copy_file(real / f, raw / f);
  fs::copy_file(fixture("kuairec") / "big_matrix.csv", raw / "big_matrix.csv");
  Prepared p = run_prepare("KuaiRec2", raw);
  EXPECT_EQ(p.items.size(), 10728u);
  EXPECT_EQ(p.users.size(), 7176u);
  EXPECT_EQ(p.interactions.size(), 3u);
  auto items = p.item_by_id();
  for (const char* id : {"1378", "1613", "5910", "6331"})  // captions with a bare '\r' (SOURCE.md)
    EXPECT_NE(items.at(id)["item_description"]["caption"].get<std::string>().find('\r'), std::string::npos)
        << id;
  EXPECT_EQ(items.at("0")["item_description"]["category"], "颜值/颜值随拍");
  EXPECT_EQ(items.at("1")["item_description"]["caption"], "无标题");  // empty caption
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("0")["user_description"]["active_degree"], "high");
  EXPECT_EQ(users.at("0")["user_description"]["follow_user_num"], "5");
}

TEST(Steam, RealGamesWithFixtureReviews) {
  UM_REQUIRE_SHARED(real, "data/steam-ucsd/steam_games.json.gz");
  fs::path raw = temp_dir("steam-real");
  fs::copy_file(real, raw / "steam_games.json.gz");
  fs::copy_file(fixture("steam") / "steam_reviews.json", raw / "steam_reviews.json");
  Prepared p = run_prepare("steam", raw);
  // 32,135 lines, 2 without id, and id 612880 appears twice (checked with ast.literal_eval;
  // SOURCE.md's "32,133 distinct" is off by this one duplicate).
  EXPECT_EQ(p.stat("dropped: games without id"), 2u);
  EXPECT_EQ(p.stat("games duplicates (first kept)"), 1u);
  EXPECT_EQ(p.items.size(), 32132u);
  auto items = p.item_by_id();
  const auto& kitty = items.at("761140")["item_description"];
  EXPECT_EQ(kitty["app_name"], "Lost Summoner Kitty");
  EXPECT_EQ(kitty["price"], "$4.99");
  EXPECT_EQ(kitty["genres"], "Action/Casual/Indie/Simulation/Strategy");
  EXPECT_EQ(items.at("643980")["item_description"]["price"], "Free To Play");
  EXPECT_EQ(items.at("767400")["item_description"]["app_name"], "\u5f39\u70b8\u4eba2222");
}

}  // namespace
}  // namespace um::testing
