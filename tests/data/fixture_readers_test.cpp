// Readers for formats without real files in ../shared, on hand-written fixtures in the official
// layouts (tests/fixtures/raw/<dataset>/). Field meanings, per the official documentation:
//
// Goodreads (UCSD Book Graph, Wan & McAuley 2018), JSON Lines, ids and most numbers as strings,
//   "" for missing values:
//   interactions: user_id, book_id, review_id, is_read (bool), rating (int 0-5, 0 = unrated),
//     review_text_incomplete, date_added / date_updated ("Mon Aug 21 12:11:00 -0700 2017"),
//     read_at, started_at;
//   books: book_id, title, authors [{author_id, role}], description, publisher, num_pages,
//     publication_year, average_rating ("4.12"), ratings_count, text_reviews_count, language_code,
//     is_ebook ("true"/"false"), plus isbn/series/popular_shelves/... (unused);
//   book_genres_initial: book_id, genres {name: count};
//   reviews: review_id, review_text, n_votes, n_comments (ints), rating, dates;
//   book_authors: author_id, name, average_rating, ratings_count, text_reviews_count.
// Steam (UCSD, Kang & McAuley 2018), one Python dict literal per line:
//   steam_reviews: username, hours (float, optional), products (int: games owned), product_id,
//     page_order, date ("YYYY-MM-DD"), text, early_access, page, optional found_funny,
//     compensation, user_id.
// KuaiRec 2.0 CSVs with header: big_matrix (user_id, video_id, play_duration ms, video_duration ms,
//   time, date, timestamp epoch s, watch_ratio; some rows lack time/date/timestamp),
//   social_network (user_id, friend_list "[..]"), item_daily_features (video_id, date yyyymmdd,
//   author_id, video_type, upload_dt, ..., video_duration ms, ..., play_cnt, like_cnt, comment_cnt,
//   share_cnt, ...; the fixture keeps the columns the reader uses in the official order).
// MobileRec (recmeapp/mobilerec): interactions/mobilerec_final.csv (uid, app_package, review,
//   rating, votes, date, formated_date, unix_timestamp, app_category) and app_meta/app_meta.csv
//   (app_package, review_count, app_name, developer_name, app_category, description,
//   content_rating, num_reviews "1,234", price "Install" or "$1.99", avg_rating).
#include <gtest/gtest.h>

#include "data/prepare_helpers.h"

namespace um::testing {
namespace {

TEST(Goodreads, FixtureFieldByField) {
  Prepared p = run_prepare("goodreads", fixture("goodreads"));
  EXPECT_EQ(p.stat("genre: comics_graphic"), 1u);
  EXPECT_EQ(p.stat("interactions read"), 7u);
  EXPECT_EQ(p.stat("dropped: date_added not parsable"), 1u);  // empty date_added
  EXPECT_EQ(p.stat("dropped: user interaction count"), 1u);   // u2 has 1 < 5 interactions
  ASSERT_EQ(p.users.size(), 1u);
  EXPECT_EQ(p.users[0]["user_id"], "u1");
  ASSERT_EQ(p.interactions.size(), 5u);
  const auto& x0 = p.interactions[0];
  EXPECT_EQ(x0["timestamp"], "2017-08-21 19:11:00");  // 12:11 at -0700 is 19:11 UTC
  EXPECT_EQ(x0["behavior_features"]["rating"], 5.0);
  EXPECT_EQ(x0["behavior_features"]["is_read"], true);
  EXPECT_EQ(x0["behavior_features"]["review_text"], "Loved it.");  // joined on review_id
  EXPECT_EQ(x0["behavior_features"]["n_votes"], 3);
  EXPECT_EQ(x0["behavior_features"]["n_comments"], 1);
  EXPECT_EQ(p.interactions[1]["timestamp"], "2017-08-22 21:30:00");  // 23:30 at +0200
  EXPECT_EQ(p.interactions[1]["behavior_features"]["review_text"], "");
  auto items = p.item_by_id();
  ASSERT_EQ(items.size(), 2u);
  const auto& d = items.at("7327624")["item_description"];
  EXPECT_EQ(d["authors"], "Alan Moore/Ronald J. Fields (Illustrator)/Unknown Author");
  EXPECT_EQ(d["genres"], nlohmann::json::parse(R"(["comics, graphic", "fantasy, paranormal"])"));
  EXPECT_EQ(d["description"], "A wizard \u00e9cole story.");
  EXPECT_EQ(d["average_rating"], 4.12);
  EXPECT_EQ(d["ratings_count"], 140);
  EXPECT_EQ(d["num_pages"], "600");
  EXPECT_EQ(d["publication_year"], "1987");
  EXPECT_EQ(items.at("7327624")["item_features"]["language_code"], "eng");
  const auto& w = items.at("836610")["item_description"];
  EXPECT_EQ(w["publisher"], "NA");
  EXPECT_EQ(w["average_rating"], "NA");
  EXPECT_EQ(w["ratings_count"], "NA");
  EXPECT_EQ(w["num_pages"], "NA");
  EXPECT_EQ(w["authors"], "");
  EXPECT_EQ(items.at("836610")["item_features"]["is_ebook"], true);
}

TEST(Steam, FixtureDedupAndUserWindow) {
  Prepared p = run_prepare("steam", fixture("steam"));
  EXPECT_EQ(p.stat("reviews read"), 33u);
  EXPECT_EQ(p.stat("dropped: duplicate user-item"), 1u);      // alice reviews product 10 twice
  EXPECT_EQ(p.stat("dropped: user interaction count"), 22u);  // bob (1) and carol (21 > 20)
  auto users = p.user_by_id();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users.at("alice")["user_description"]["products"], "41");
  EXPECT_EQ(users.at("alice")["user_features"]["products"], 41);
  ASSERT_EQ(p.interactions.size(), 10u);
  bool kept_earliest = false;
  for (const auto& x : p.interactions) {
    if (x["user_id"] == "alice" && x["item_id"] == "10") {
      EXPECT_EQ(x["timestamp"], "2017-12-12 00:00:00");
      EXPECT_EQ(x["behavior_features"]["hours_played"], 1.5);
      kept_earliest = true;
    }
    if (x["user_id"] == "dave" && x["item_id"] == "10") {
      EXPECT_EQ(x["behavior_features"]["hours_played"], 0.0);  // missing hours render `Played 0.0 hours`
      EXPECT_EQ(x["behavior_features"]["review_text"], "no hours \u00e9\n line");
    }
  }
  EXPECT_TRUE(kept_earliest);
  auto items = p.item_by_id();
  ASSERT_EQ(items.size(), 3u);  // no-id line dropped, duplicate id 10 dropped
  const auto& g = items.at("10")["item_description"];
  EXPECT_EQ(g["app_name"], "Caf\u00e9 \u5f39 \U0001f600 it's \"q\"");
  EXPECT_EQ(g["price"], "$19");
  EXPECT_EQ(g["developer"], "Unknown");
  EXPECT_EQ(g["specs"], "NA");
  EXPECT_EQ(items.at("643980")["item_features"]["early_access"], true);
}

// products = the first non-missing value over the user's reviews in time order, "" when none has it.
TEST(Steam, ProductsFirstNonMissing) {
  auto raw = temp_dir("steam-products");
  std::filesystem::copy(fixture("steam"), raw, std::filesystem::copy_options::recursive);
  {
    std::ofstream r(raw / "steam_reviews.json", std::ios::app);
    for (int i = 0; i < 5; ++i) {
      // erin's earliest review lacks products, the later ones say 12; fred never gives it.
      r << "{u'username': u'erin', " << (i ? "u'products': 12, " : "") << "u'product_id': u'" << 100 + i
        << "', u'date': u'2016-01-0" << i + 1 << "', u'text': u'x'}\n";
      r << "{u'username': u'fred', u'hours': 1.0, u'product_id': u'" << 100 + i << "', u'date': u'2016-01-0"
        << i + 1 << "', u'text': u'x'}\n";
    }
  }
  Prepared p = run_prepare("steam", raw);
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("erin")["user_description"]["products"], "12");
  EXPECT_EQ(users.at("erin")["user_features"]["products"], 12);
  EXPECT_EQ(users.at("fred")["user_description"]["products"], "");
  EXPECT_TRUE(users.at("fred")["user_features"]["products"].is_null());
}

TEST(KuaiRec, FixtureDerivedFeatures) {
  Prepared p = run_prepare("KuaiRec2", fixture("kuairec"));
  EXPECT_EQ(p.stat("dropped: rows without timestamp"), 1u);
  ASSERT_EQ(p.interactions.size(), 3u);
  const auto& b0 = p.interactions[0]["behavior_features"];  // 4381 ms of 6067 ms, ratio 0.72
  EXPECT_EQ(b0["operation"], "Skip (watched 4s)");
  EXPECT_EQ(b0["short_play"], false);
  EXPECT_EQ(b0["valid_play"], false);                       // video <= 7 s and not watched to the end
  const auto& b1 = p.interactions[1]["behavior_features"];  // 13112 of 10867 ms
  EXPECT_EQ(b1["operation"], "Complete (watched 13s)");
  EXPECT_EQ(b1["valid_play"], true);
  EXPECT_EQ(b1["long_play"], true);
  EXPECT_EQ(p.interactions[2]["behavior_features"]["short_play"], true);  // 1500 < 3000 ms
  EXPECT_EQ(p.interactions[0]["timestamp"], "2020-07-04 21:27:48.378000");
  auto items = p.item_by_id();
  const auto& v0 = items.at("0");
  // Earliest day (20200705) wins over the later row listed first.
  EXPECT_EQ(v0["item_description"]["play_count"], "999");
  EXPECT_EQ(v0["item_description"]["like_count"], "15");
  EXPECT_EQ(v0["item_description"]["share_count"], "Not Available");
  EXPECT_EQ(v0["item_description"]["video_duration"], "6  sec");
  EXPECT_EQ(v0["item_description"]["upload_dt"], "2020-03-30");
  EXPECT_EQ(v0["item_features"]["upload_dt"], 1585526400.0);  // UTC midnight
  EXPECT_EQ(v0["item_description"]["caption"], "精神小伙\r路难走");
  EXPECT_EQ(items.at("1")["item_description"]["cover_text"], "封面");
  EXPECT_EQ(items.at("1")["item_description"]["topic_tags"], "[美食]");
  EXPECT_EQ(items.at("2")["item_description"]["caption"], "引号, 逗号");
  EXPECT_EQ(items.at("2")["item_description"]["category"], "UNKNOWN");
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("1")["user_description"]["role"], "Video Author | Live Streamer");
  EXPECT_EQ(users.at("1")["user_description"]["low_active_period"], "Yes");
  EXPECT_EQ(users.at("0")["user_features"]["friend_list"], nlohmann::json::parse(R"(["1","7"])"));
}

TEST(KuaiRec, HumanCountFormatting) {
  // The reference's helper: round, then "<n/1e6 to 0 decimals>M" / "<n/1e3 to 0 decimals>k" with
  // Python's round-half-even of '{:.0f}' (2.5 → "2").
  auto raw = temp_dir("kuairec-counts");
  std::filesystem::copy(fixture("kuairec"), raw, std::filesystem::copy_options::recursive);
  {
    std::ofstream d(raw / "item_daily_features.csv", std::ios::trunc);
    d << "video_id,date,video_type,upload_dt,video_duration,play_cnt,like_cnt,comment_cnt,share_cnt\n"
         "0,20200705,NORMAL,2020-03-30,12400.0,1234567,2500,999999,x\n";
  }
  Prepared p = run_prepare("KuaiRec2", raw);
  const auto d = p.item_by_id().at("0")["item_description"];
  EXPECT_EQ(d["play_count"], "1M");
  EXPECT_EQ(d["like_count"], "2k");
  EXPECT_EQ(d["comment_count"], "1000k");
  EXPECT_EQ(d["share_count"], "Not Available");
  EXPECT_EQ(d["video_duration"], "12  sec");
  std::filesystem::remove(raw / "item_daily_features.csv");
  Prepared q = run_prepare("KuaiRec2", raw);
  EXPECT_EQ(q.item_by_id().at("0")["item_description"]["play_count"], "Not Available");
  EXPECT_EQ(q.stat("item_daily_features.csv absent: video statistics \"Not Available\""), 1u);
}

// long_play is played >= 18 s for videos longer than 18 s (docs/method.md §2.6); item statistics are
// the earliest daily row as a whole, not each column's first non-empty value.
TEST(KuaiRec, LongPlayBoundaryAndWholeDailyRow) {
  auto raw = temp_dir("kuairec-whole-row");
  std::filesystem::copy(fixture("kuairec"), raw, std::filesystem::copy_options::recursive);
  {
    std::ofstream m(raw / "big_matrix.csv", std::ios::trunc);
    m << "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n"
         "0,1,18000,30000,2020-07-05 05:27:48.378,20200705.0,1593898068.378,0.6\n";
    std::ofstream d(raw / "item_daily_features.csv", std::ios::trunc);
    d << "video_id,date,video_type,upload_dt,video_duration,play_cnt,like_cnt,comment_cnt,share_cnt\n"
         "0,20200706,NORMAL,2020-03-30,12400.0,5000,7,8,9\n"
         "0,20200705,NORMAL,2020-03-30,12400.0,,15,3,\n";
  }
  Prepared p = run_prepare("KuaiRec2", raw);
  EXPECT_EQ(p.interactions[0]["behavior_features"]["long_play"], true);  // exactly 18 s of a 30 s video
  const auto d = p.item_by_id().at("0")["item_description"];
  EXPECT_EQ(d["play_count"], "Not Available");  // empty on the earliest day, 5k the day after
  EXPECT_EQ(d["like_count"], "15");
  EXPECT_EQ(d["share_count"], "Not Available");
}

TEST(MobileRec, FixtureDedupAndMapping) {
  Prepared p = run_prepare("mobilerec", fixture("mobilerec"));
  EXPECT_EQ(p.stat("app_meta duplicates (first kept)"), 1u);
  ASSERT_EQ(p.items.size(), 2u);
  auto items = p.item_by_id();
  const auto& wa = items.at("com.whatsapp");
  EXPECT_EQ(wa["item_description"]["app_name"], "WhatsApp Messenger");
  EXPECT_EQ(wa["item_description"]["price"], "Free");
  EXPECT_EQ(wa["item_description"]["num_reviews"], "160,123,456");
  EXPECT_EQ(wa["item_features"]["num_reviews"], 160123456);
  EXPECT_EQ(wa["item_features"]["avg_rating"], 4.3);
  EXPECT_EQ(items.at("com.spotify.music")["item_description"]["developer_name"], "Unknown");
  ASSERT_EQ(p.interactions.size(), 3u);
  EXPECT_EQ(p.interactions[0]["behavior_features"]["review"], "Great app, \"really\" good");
  EXPECT_EQ(p.interactions[1]["behavior_features"]["review"], "Multi\nline review");
  EXPECT_EQ(p.interactions[0]["timestamp"], "2020-10-21 00:00:00");
  // The CSV's integer ratings stay integers (pandas int64), so histories read `My Rating: 5`.
  EXPECT_TRUE(p.interactions[0]["behavior_features"]["rating"].is_number_integer());
  EXPECT_EQ(p.interactions[0]["behavior_features"]["rating"].dump(), "5");
  auto users = p.user_by_id();
  EXPECT_EQ(users.at("u1")["user_features"]["avg_rating"], 4.5);
  data::FilterOptions f;
  f.max_rows = 1;
  EXPECT_EQ(run_prepare("mobilerec", fixture("mobilerec"), f).interactions.size(), 1u);
}

}  // namespace
}  // namespace um::testing

namespace um::testing {
namespace {

// Amazon Reviews 2023 (McAuley lab, Hou et al. 2024), JSON Lines:
//   <Cat>.jsonl: rating (float), title, text, images, asin, parent_asin, user_id, timestamp (epoch ms),
//     helpful_vote, verified_purchase;
//   meta_<Cat>.jsonl: main_category, title, average_rating, rating_number, features (list),
//     description (list), price (number or null), images, videos, store, categories (list),
//     details (object), parent_asin, bought_together.
TEST(Amazon2023, FixtureFiltersAndDescription) {
  data::FilterOptions f;
  f.keep_latest_fraction = 1.0;
  f.min_user_interactions = 2;
  f.min_item_interactions = 2;
  Prepared p = run_prepare("Amazon-All_Beauty", fixture("amazon-2023"), f);
  EXPECT_EQ(p.stat("format: Amazon Reviews 2023"), 1u);
  EXPECT_EQ(p.stat("meta duplicates (first kept)"), 1u);
  EXPECT_EQ(p.stat("dropped: user interaction count"), 1u);  // U3 has one review
  // P2 (rating_number 9 < 10) and P3 (one details key) fail the metadata filters: 2 reviews each.
  EXPECT_EQ(p.stat("dropped: item without metadata, rating_number or details"), 4u);
  ASSERT_EQ(p.interactions.size(), 2u);
  EXPECT_EQ(p.interactions[0]["item_id"], "P1");                            // parent_asin, not asin
  EXPECT_EQ(p.interactions[0]["timestamp"], "2020-05-05 14:08:48.923000");  // epoch ms
  EXPECT_EQ(p.interactions[0]["behavior_features"]["rating"], 5);
  EXPECT_EQ(p.interactions[0]["behavior_features"]["review_summary"], "Lovely scent");
  EXPECT_EQ(p.users.size(), 2u);
  auto items = p.item_by_id();
  // Only P1: the never-reviewed P4 passes the metadata filters but is not in the reference's pool.
  ASSERT_EQ(items.size(), 1u);
  const auto& d = items.at("P1")["item_description"];
  EXPECT_EQ(d["title"], "Howard LC0008 Leather Conditioner, 8-Ounce (4-Pack)");
  EXPECT_EQ(d["price"], "NA");
  EXPECT_EQ(d["store"], "Howard Products");
  EXPECT_EQ(d["average_rating"], 4.8);
  EXPECT_EQ(d["rating_number"], 10);
  EXPECT_EQ(d["category"], "All Beauty");  // empty categories → main_category
  // ';'.join("k: v").strip() + "\n" and ', '.join(features).strip() + "\n" (docs/method.md §2.4).
  EXPECT_EQ(d["description"], "Package Dimensions: 7.1 x 5.5 x 3 inches; 2.38 Pounds;UPC: 617390882781\n");
  EXPECT_EQ(d["features"], "Made in USA, Safe\n");
}

// The item pool is the metadata table cut to items with enough down-sampled reviews that pass the
// metadata filters; "outer" items are the rest of that cut table (docs/method.md §2.4).
TEST(Amazon2023, ItemPoolIsTheCutTable) {
  auto raw = temp_dir("amazon-pool");
  std::filesystem::copy(fixture("amazon-2023"), raw, std::filesystem::copy_options::recursive);
  {
    std::ofstream r(raw / "All_Beauty.jsonl", std::ios::app);
    for (const char* u : {"U8", "U9"})  // two one-review users: P4 has 2 reviews, none kept
      r << R"({"rating": 3.0, "title": "t", "text": "x", "images": [], "asin": "P4", "parent_asin": "P4", "user_id": ")"
        << u << R"(", "timestamp": 1590000000000, "helpful_vote": 0, "verified_purchase": true})"
        << "\n";
  }
  data::FilterOptions f;
  f.keep_latest_fraction = 1.0;
  f.min_user_interactions = 2;
  f.min_item_interactions = 2;
  Prepared p = run_prepare("Amazon-All_Beauty", raw, f);
  EXPECT_EQ(p.stat("dropped: user interaction count"), 3u);  // U3, U8, U9
  auto items = p.item_by_id();
  ASSERT_EQ(items.size(), 2u);  // P1 (inner) + P4 (outer); P5 has no review, P2/P3 fail the metadata
  const auto& d4 = items.at("P4")["item_description"];
  EXPECT_EQ(d4["category"], "Beauty & Personal Care-Hair Care-Shampoo");
  EXPECT_EQ(d4["price"], 12.5);
  EXPECT_TRUE(d4["store"].is_null());
  EXPECT_EQ(d4["features"], "");  // empty list
  EXPECT_EQ(p.stat("items without interactions (exposure pool)"), 1u);
}

// Down-sampling drops int(n * 0.7) reviews as Python computes it: 90 * 0.7 = 62.99999999999999 → 62.
TEST(Amazon2023, DownSamplingTruncatesLikePython) {
  auto raw = temp_dir("amazon-90");
  std::filesystem::copy_file(fixture("amazon-2023") / "meta_All_Beauty.jsonl", raw / "meta_All_Beauty.jsonl");
  {
    std::ofstream r(raw / "All_Beauty.jsonl");
    for (int i = 0; i < 90; ++i)
      r << R"({"rating": 4.0, "title": "t", "text": "x", "images": [], "asin": "P1", "parent_asin": "P1", "user_id": "U)"
        << i << R"(", "timestamp": )" << 1590000000000 + i * 1000
        << R"(, "helpful_vote": 0, "verified_purchase": true})"
        << "\n";
  }
  data::FilterOptions f;
  f.min_user_interactions = 0;
  f.min_item_interactions = 0;
  Prepared p = run_prepare("Amazon-All_Beauty", raw, f);
  EXPECT_EQ(p.stat("dropped: earlier than the latest fraction"), 62u);
  ASSERT_EQ(p.interactions.size(), 28u);
  EXPECT_EQ(p.interactions[0]["user_id"], "U62");
}

TEST(Amazon2023, KeepLatestFraction) {
  data::FilterOptions f;
  f.keep_latest_fraction = 0.5;
  f.min_user_interactions = 0;
  f.min_item_interactions = 0;
  f.min_rating_number = 0;
  Prepared p = run_prepare("Amazon-All_Beauty", fixture("amazon-2023"), f);
  EXPECT_EQ(p.stat("dropped: earlier than the latest fraction"), 3u);  // floor(7 × 0.5)
  // The 4 latest reviews are U2's three (2020-09) and U1's P1 (2020-05-05 14:08:48.923); P3 has one
  // details key, so U2's P3 review is filtered: 3 remain.
  ASSERT_EQ(p.interactions.size(), 3u);
  for (const auto& x : p.interactions) EXPECT_GE(x["timestamp"].get<std::string>(), "2020-05-05 14:08:48");
}

}  // namespace
}  // namespace um::testing

namespace um::testing {
namespace {

// MIND with the reference's dev copies beside the train files (behaviors_valid.tsv,
// news_valid.tsv): TAB-separated, behaviors = ImpressionID, UserID, Time, History, Impressions;
// news = NewsID, Category, SubCategory, Title, Abstract, URL, TitleEntities, AbstractEntities.
TEST(Mind, FixtureDevFilesAndFirstSeen) {
  auto raw = raw_fixture("mind-dev");
  auto size_before = std::filesystem::file_size(raw / "behaviors.tsv");
  Prepared p = run_prepare("MIND", raw);
  EXPECT_EQ(std::filesystem::file_size(raw / "behaviors.tsv"), size_before) << "input must not be modified";
  EXPECT_EQ(p.stat("impressions read"), 4u);
  EXPECT_EQ(p.stat("dropped: history shorter than 5"), 1u);
  EXPECT_EQ(p.stat("dropped: not exactly one click"), 1u);
  EXPECT_EQ(p.stat("news duplicates across files (first kept)"), 1u);
  ASSERT_EQ(p.interactions.size(), 2u);
  EXPECT_EQ(p.interactions[0]["item_id"], "N11");
  EXPECT_EQ(p.interactions[0]["behavior_features"]["item_pos"], 1);
  EXPECT_EQ(p.interactions[0]["timestamp"], "2019-11-11 09:05:58");
  EXPECT_EQ(p.interactions[1]["item_id"], "N12");  // from the dev file
  EXPECT_EQ(p.interactions[1]["timestamp"], "2019-11-15 01:00:00");
  EXPECT_EQ(p.interactions[1]["behavior_features"]["impression_list"],
            nlohmann::json::parse(R"(["N12","N10","N99"])"));
  ASSERT_EQ(p.users.size(), 1u);  // U1; history of its first kept impression
  EXPECT_EQ(p.users[0]["user_features"]["history"].size(), 5u);
  auto items = p.item_by_id();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items.at("N11")["item_description"]["title"], "Quoted title");  // first copy kept, read as pandas
  EXPECT_TRUE(items.at("N10")["item_description"]["abstract"].is_null());
  EXPECT_EQ(items.at("N11")["item_features"]["title_entities"], "[{\"Label\": \"NFL\"}]");
  EXPECT_EQ(items.at("N10")["item_features"]["time"], 1573463158.0);  // 2019-11-11 09:05:58 UTC
  EXPECT_EQ(items.at("N12")["item_features"]["time"], 1573779600.0);  // 2019-11-15 01:00:00 UTC
}

// "First seen" is the minimum over the impressions that pass the filters only (docs/method.md §2.3):
// an earlier impression dropped for its short history does not count.
TEST(Mind, FirstSeenOverFilteredImpressionsOnly) {
  auto raw = raw_fixture("mind-dev");
  {
    std::ofstream b(raw / "behaviors.tsv", std::ios::app);
    b << "9\tU4\t11/1/2019 8:00:00 AM\tN1 N2\tN12-1 N11-0\n";                // history 2 < 5: dropped
    b << "10\tU5\t11/2/2019 8:00:00 AM\tN1 N2 N3 N4 N5 N10\tN12-1 N11-1\n";  // two clicks: dropped
  }
  Prepared p = run_prepare("MIND", raw);
  EXPECT_EQ(p.stat("dropped: history shorter than 5"), 2u);
  EXPECT_EQ(p.stat("dropped: not exactly one click"), 2u);
  auto items = p.item_by_id();
  EXPECT_EQ(items.at("N12")["item_features"]["time"], 1573779600.0);  // not 2019-11-01
  EXPECT_EQ(items.at("N10")["item_features"]["time"], 1573463158.0);  // not 2019-11-02
}

// Last.fm hetrec2011 layout: artists.dat (UTF-8, LF), tags.dat (ISO-8859-1, CRLF), user_artists.dat,
// user_friends.dat, user_taggedartists.dat (day/month/year) and -timestamps.dat (epoch ms), CRLF.
// Artist ids are not row positions (1, 5, 9), which exposes the reference's misalignment.
TEST(LastFm, FixtureTimestampsFileAndTagAlignment) {
  Prepared p = run_prepare("LastFM", raw_fixture("lastfm"));
  EXPECT_EQ(p.stat("tag assignments read (timestamps file)"), 5u);
  EXPECT_EQ(p.stat("dropped: assignments of unknown users or artists"), 1u);  // artist 77
  auto items = p.item_by_id();
  EXPECT_EQ(items.at("5")["item_description"]["name"], "Bj\u00f6rk");
  EXPECT_EQ(items.at("5")["item_description"]["tags"], "fran\u00e7ais/rock");
  EXPECT_EQ(items.at("5")["item_features"]["tags"],
            nlohmann::json::parse(R"([["fran\u00e7ais",2],["rock",1]])"));
  EXPECT_EQ(items.at("1")["item_description"]["tags"], "");
  EXPECT_EQ(items.at("9")["item_description"]["tags"], "jazz");
  ASSERT_EQ(p.interactions.size(), 3u);
  const auto& x = p.interactions[0];
  EXPECT_EQ(x["user_id"], "2");
  EXPECT_EQ(x["item_id"], "5");
  EXPECT_EQ(x["timestamp"], "2009-03-31 11:46:40");  // earliest of the group, epoch ms
  EXPECT_EQ(x["behavior_features"]["tagID"], nlohmann::json::parse("[2,1]"));
  EXPECT_EQ(x["behavior_features"]["tagValue"], nlohmann::json::parse(R"(["fran\u00e7ais","rock"])"));
  EXPECT_EQ(p.user_by_id().at("2")["user_features"]["friends"], nlohmann::json::parse(R"(["3"])"));

  auto raw = raw_fixture("lastfm");
  std::filesystem::remove(raw / "user_taggedartists-timestamps.dat");
  Prepared q = run_prepare("LastFM", raw);
  EXPECT_EQ(q.stat("tag assignments read (day precision: timestamps file absent)"), 5u);
  EXPECT_EQ(q.interactions[0]["timestamp"], "2009-04-01 00:00:00");
}

}  // namespace
}  // namespace um::testing

namespace um::testing {
namespace {

// Steam Australian crawl (UCSD, Python literals): australian_user_reviews = {user_id, user_url,
// reviews: [{funny, posted "Posted November 5, 2011.", last_edited, item_id, helpful, recommend,
// review}]}; australian_users_items = {user_id, items_count, steam_id, user_url, items: [{item_id,
// item_name, playtime_forever (minutes), playtime_2weeks}]}.
TEST(SteamAustralian, FixtureReviewsWithPlaytime) {
  Prepared p = run_prepare("steam-australian", fixture("steam-australian"));
  EXPECT_EQ(p.stat("reviews read"), 8u);
  EXPECT_EQ(p.stat("dropped: posted date without a year"), 1u);  // "Posted June 24."
  EXPECT_EQ(p.stat("dropped: user interaction count"), 1u);      // js41637: 1 review < 5
  ASSERT_EQ(p.users.size(), 1u);
  EXPECT_EQ(p.users[0]["user_description"]["products"], "277");
  ASSERT_EQ(p.interactions.size(), 6u);
  EXPECT_EQ(p.interactions[0]["timestamp"], "2011-04-21 00:00:00");  // sorted by posted date
  EXPECT_EQ(p.interactions[0]["behavior_features"]["recommend"], false);
  EXPECT_EQ(p.interactions[1]["item_id"], "761140");
  EXPECT_EQ(p.interactions[1]["behavior_features"]["hours_played"], 1.5);  // 90 minutes
  EXPECT_EQ(p.interactions[1]["behavior_features"]["review_text"], "It's unique and worth a playthrough.");
  EXPECT_TRUE(p.interactions[0]["behavior_features"]["hours_played"].is_null());  // not in items list
}

}  // namespace
}  // namespace um::testing
