// Per-dataset templates and derived features against hand-computed strings (docs/method.md §3.3–3.4,
// worked example §5.4).
#include "scene/strategy.h"

#include <gtest/gtest.h>

#include "scene/features.h"
#include "test_datasets.h"
#include "util/error.h"

namespace um::scene {
namespace {

using nlohmann::json;
using testing::at;

// Renders exposure entries / history entries of one strategy over a tiny dataset.
struct Harness {
  data::Dataset ds;
  std::unique_ptr<DatasetIndex> index;
  SocialGraph social;
  std::unique_ptr<Strategy> strategy;

  explicit Harness(data::Dataset d) : ds(std::move(d)) {
    index = std::make_unique<DatasetIndex>(ds);
    strategy = make_strategy(ds.name);
  }
  SceneView view(uint32_t user, int64_t t) const { return {*index, social, user, t}; }

  std::string profile(uint32_t user) const {
    json d = json::parse(ds.users[user].description);
    Fields f(&d);
    return strategy->profile_template().render(f);
  }
  std::string item(uint32_t user, int64_t t, uint32_t item) const {
    json d = json::parse(ds.items[item].description);
    Fields f(&d);
    strategy->item_features(view(user, t), item, d, f);
    return strategy->item_template().render(f);
  }
  std::string history(uint32_t user, int64_t t, uint32_t item, const std::string& behavior,
                      std::optional<int64_t> when) const {
    json d = json::parse(ds.items[item].description);
    json b = json::parse(behavior);
    Fields f(&d);
    strategy->history_features(view(user, t), HistoryInput{item, d, b, when}, f);
    return strategy->history_template().render(f);
  }
};

data::Dataset named(std::string name) {
  data::Dataset ds;
  ds.name = std::move(name);
  return ds;
}

TEST(Strategy, MovieLensWorkedExample) {
  auto ds = named("ml-1m");
  ds.users.push_back(
      {"1", R"({"gender":"male","age":"25-34","occupation":"programmer","location":"Austin, TX"})"});
  // Casino's year is set so that only Sabrina is a new release, as in the example.
  ds.items.push_back(
      {"1", R"j({"title":"Toy Story (1995)","genres":"Animation|Children's|Comedy","year":"1995"})j"});
  ds.items.push_back({"2", R"j({"title":"Heat (1995)","genres":"Action|Crime|Thriller","year":"1995"})j"});
  ds.items.push_back({"3", R"j({"title":"Casino (1995)","genres":"Drama|Thriller","year":"1993"})j"});
  ds.items.push_back({"4", R"j({"title":"Sabrina (1995)","genres":"Comedy|Romance","year":"1995"})j"});
  Harness h(ds);
  const int64_t t = at("1995-12-31 20:00:00");
  std::string profile = h.profile(0);
  std::string history = h.history(0, t, 0, R"({"rating":4.0})", at("1995-12-28 18:00:00")) + "\n" +
                        h.history(0, t, 1, R"({"rating":5.0})", at("1995-12-31 18:00:00"));
  std::vector<std::string> actions = {h.item(0, t, 2), h.item(0, t, 3)};
  // The user message of §5.1 with lettered options.
  std::string action_list = "[A] " + actions[0] + "\n[B] " + actions[1];
  std::string message = "# User Profile\n" + profile + "\n\n## History\n" + history +
                        "\n\n# Exposure List\n" + action_list + "\n";
  EXPECT_EQ(
      message,
      "# User Profile\n## User Profile\nGender: male\nAge: 25-34\nOccupation: programmer\nLocation: Austin, "
      "TX\n\n\n## History\nA movie viewed 3 days ago\nToy Story (1995) Animation|Children's|Comedy \nMy "
      "Behavior:\nRating: 4.0/5.0\n\nA movie viewed 2 hours ago\nHeat (1995) Action|Crime|Thriller \nMy "
      "Behavior:\nRating: 5.0/5.0\n\n\n# Exposure List\n[A] Casino (1995) - Drama|Thriller \n\n[B] [New "
      "Release]Sabrina (1995) - Comedy|Romance \n\n");
}

TEST(Strategy, MovieLensNewReleaseBoundaryAndVariants) {
  auto ds = named("ml-100k");
  ds.users.push_back(
      {"1", R"({"gender":"female","age":"24","occupation":"technician","location":"Unknown"})"});
  ds.items.push_back({"1", R"j({"title":"Old (1995)","genres":"Drama","year":"1995"})j"});
  ds.items.push_back({"2", R"({"title":"No year","genres":"Drama","year":null})"});
  Harness h(ds);
  // (t − 1995-01-01).days == 365 → new; 366 → not
  EXPECT_EQ(h.item(0, at("1996-01-01 23:59:59"), 0), "[New Release]Old (1995) - Drama \n");
  EXPECT_EQ(h.item(0, at("1996-01-02 00:00:00"), 0), "Old (1995) - Drama \n");
  EXPECT_EQ(h.item(0, at("1996-01-02 00:00:00"), 1), "No year - Drama \n");
  EXPECT_EQ(h.profile(0),
            "## User Profile\nGender: female\nAge: 24\nOccupation: technician\nLocation: Unknown\n");
  EXPECT_EQ(*h.strategy->release_time(json::parse(ds.items[0].description), json::object()),
            at("1995-01-01 00:00:00"));

  auto small = named("ml-latest-small");
  small.users.push_back({"1", "{}"});
  Harness s(small);
  EXPECT_EQ(s.profile(0), "");  // no user attributes in ml-latest*
}

TEST(Strategy, Amazon) {
  auto ds = named("Amazon-Magazine_Subscriptions");
  ds.users.push_back({"u", "{}"});
  ds.items.push_back(
      {"a", R"({"title":"One two three four five six seven eight nine ten eleven","category":"Books",
      "price":9.5,"average_rating":4.5,"rating_number":12})"});
  ds.items.push_back(
      {"b", R"({"title":"Short","category":"Books","price":null,"average_rating":4.0,"rating_number":3})"});
  ds.items.push_back(
      {"c", R"({"title":"Short","category":"Books","price":"None","average_rating":4.0,"rating_number":3})"});
  ds.items.push_back(
      {"d", R"({"title":"","category":"Books","price":"NA","average_rating":4.0,"rating_number":3})"});
  Harness h(ds);
  int64_t t = at("2018-05-01 00:00:00");
  EXPECT_EQ(h.item(0, t, 3), "Product name: \nCategory: Books\nPrice: NA\nRatings: 4.0 (3)\n");
  EXPECT_EQ(
      h.item(0, t, 0),
      "Product name: One two three four five six seven eight nine ten...\nCategory: Books\nPrice: $9.5\n"
      "Ratings: 4.5 (12)\n");
  EXPECT_EQ(h.item(0, t, 1), "Product name: Short\nCategory: Books\nPrice: NA\nRatings: 4.0 (3)\n");
  EXPECT_EQ(h.item(0, t, 2), "Product name: Short\nCategory: Books\nPrice: NA\nRatings: 4.0 (3)\n");
  // One rule for exposure and history (the reference writes "$None" in history and "$NA" for "NA").
  EXPECT_EQ(
      h.history(0, t, 2, R"({"rating":5,"review_summary":"Great","review_text":"Loved it"})",
                at("2018-04-01 00:00:00")),
      "A product bought 1 month ago\nProduct name: Short\nCategory: Books\nPrice: NA\nRatings: 4.0 (3)\n"
      "My Behavior:\nRating: 5/5 \nReview: Great\nLoved it\n");
}

TEST(Strategy, Goodreads) {
  auto ds = named("goodreads");
  ds.users.push_back({"u", "{}"});
  ds.items.push_back({"b", R"({"title":"Saga","authors":"Brian K. Vaughan","description":"A space opera.",
      "genres":["comics, graphic","fiction"],"publication_year":"2012","publisher":"Image","average_rating":4.5,
      "ratings_count":100,"num_pages":"160"})"});
  Harness h(ds);
  int64_t t = at("2015-01-10 00:00:00");
  EXPECT_EQ(h.item(0, t, 0),
            "Title:Saga (['comics, graphic', 'fiction']) \nAuthor: Brian K. Vaughan\nPublished at 2012 - "
            "Image - 160 "
            "pages\nRating: 4.5 - 100 ratings\n");
  std::string head =
      "A book viewed 9 days ago\nTitle:Saga (['comics, graphic', 'fiction']) \nDescription: A space opera.\n"
      "Author: Brian K. Vaughan\nPublished at 2012 - Image - 160 pages\nRating: 4.5 - 100 ratings\nMy "
      "Behavior: ";
  EXPECT_EQ(h.history(0, t, 0, R"({"is_read":true,"rating":4.0,"review_text":"Great art"})",
                      at("2015-01-01 00:00:00")),
            head + "Read\nRating: 4.0\nReview: Great art\n");
  EXPECT_EQ(
      h.history(0, t, 0, R"({"is_read":true,"rating":0.0,"review_text":""})", at("2015-01-01 00:00:00")),
      head + "Read\nRating: 0.0\n");
  EXPECT_EQ(
      h.history(0, t, 0, R"({"is_read":false,"rating":0.0,"review_text":"x"})", at("2015-01-01 00:00:00")),
      head + "Not Read\n");
}

TEST(Strategy, KuaiRec) {
  auto ds = named("KuaiRec2");
  ds.users.push_back(
      {"1", R"({"active_degree":"full","low_active_period":"No","role":"","follow_user_num":"5",
      "register_days":"100","friend_user_num":"0","fans_user_num":"3"})"});
  ds.items.push_back({"9", R"({"caption":"cat","category":"Pets","cover_text":"","video_duration":"12  sec",
      "play_count":"1k","like_count":"12","comment_count":"0","share_count":"1"})",
                      R"({"upload_dt":1593561600.0})"});
  Harness h(ds);
  int64_t t = at("2020-07-05 00:00:00");
  EXPECT_EQ(
      h.profile(0),
      "## User Profile\nCountry: China\nRegistered 100 days ago\n0 Friends | 5 Followers | 3 Fans\nActive "
      "Degree: full\nRole: \n");
  EXPECT_EQ(h.item(0, t, 0),
            "Title:cat Pets \nDuration: 12  sec\n1k plays | 12 likes | 0 comments | 1 shares\n\n");
  EXPECT_EQ(
      h.history(0, t, 0, R"j({"operation":"Skip (watched 2s)"})j", at("2020-07-04 23:00:00")),
      "A video watched 1 hour ago\nTitle:cat Pets \nDuration: 12  sec\n1k plays | 12 likes | 0 comments | 1 "
      "shares\nMy Behavior: Skip (watched 2s)\n\n");
  EXPECT_EQ(*h.strategy->release_time(json::object(), json::parse(ds.items[0].features)),
            at("2020-07-01 00:00:00"));
}

TEST(Strategy, LastFMFriendsAndTags) {
  auto ds = named("LastFM");
  ds.users.push_back({"1", "{}", R"({"friends":[2,3,99]})"});
  ds.users.push_back({"2", "{}", "{}"});
  ds.users.push_back({"3", "{}", "{}"});
  ds.items.push_back({"10", R"({"name":"Muse","tags":"rock/alternative"})"});
  ds.items.push_back({"11", R"({"name":"Abba","tags":""})"});
  ds.interactions.push_back({"2", "10", at("2009-01-01 00:00:00"), "{}"});
  ds.interactions.push_back({"3", "10", at("2010-01-01 00:00:00"), "{}"});
  Harness h(ds);
  h.social.friends = {{1, 2}, {}, {}};
  int64_t t = at("2009-06-01 00:00:00");
  EXPECT_EQ(h.item(0, t, 0), "Artist name: Muse (2 friend(s) listened)\nTags: rock/alternative\n");
  EXPECT_EQ(h.item(0, t, 1), "Artist name: Abba ()\nTags: \n");
  EXPECT_EQ(
      h.history(0, t, 0, R"({"tagID":[1,2],"tagValue":["rock","live"]})", at("2009-05-01 00:00:00")),
      "An artist listened 1 month ago\nArtist name: Muse \nTags: rock/alternative\nMy Behavior: Tagging with "
      "rock, live\n");
  EXPECT_EQ(h.history(0, t, 1, R"({"tagID":[],"tagValue":[]})", at("2009-05-31 23:59:30")),
            "An artist listened just now\nArtist name: Abba \nTags: \nMy Behavior: Tagging with No tags\n");
  auto scorers = h.strategy->default_scorers();
  EXPECT_NE(std::find(scorers.begin(), scorers.end(), "social"), scorers.end());
}

TEST(Strategy, Mind) {
  auto ds = named("MIND");
  ds.users.push_back({"U1", "{}"});
  ds.items.push_back({"N1",
                      R"({"title":"Storm hits","abstract":null,"category":"news","subcategory":"weather"})",
                      R"({"time":1573430400.0})"});
  Harness h(ds);
  int64_t t = at("2019-11-13 00:00:00");
  EXPECT_EQ(h.item(0, t, 0), "Storm hits (Category: news)\n");
  EXPECT_EQ(h.history(0, t, 0, "{}", at("2019-11-11 00:00:00")),
            "Storm hits (Category: news) { Viewed 2 days ago }\n");
  EXPECT_EQ(h.history(0, t, 0, "{}", std::nullopt), "Storm hits (Category: news) { Viewed earlier }\n");
  EXPECT_TRUE(h.strategy->static_click_history());
  EXPECT_EQ(*h.strategy->release_time(json::object(), json::parse(ds.items[0].features)),
            at("2019-11-11 00:00:00"));
}

TEST(Strategy, MobileRec) {
  auto ds = named("mobilerec");
  ds.users.push_back({"u", "{}"});
  ds.items.push_back(
      {"com.a", R"({"app_name":"Notes","developer_name":"Unknown","app_category":"Productivity",
      "description":"w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21","content_rating":"Everyone",
      "num_reviews":"1,234","price":"Free","avg_rating":"4.2"})"});
  Harness h(ds);
  int64_t t = at("2021-01-01 00:00:00");
  EXPECT_EQ(h.item(0, t, 0),
            "Notes (4.2/5.0 - 1,234 reviews)\nCategory: Productivity\nDeveloper: Unknown\nPrice: Free\n\n");
  EXPECT_EQ(
      h.history(0, t, 0, R"({"rating":5,"review":"good app"})", at("2020-01-01 00:00:00")),
      "Notes (4.2/5.0 - 1,234 reviews)\nCategory: Productivity\nDeveloper: Unknown\nPrice: "
      "Free\nDescription: "
      "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20...\nMy Rating: 5\nMy Reviews: "
      "good app\n\n");
}

TEST(Strategy, Steam) {
  auto ds = named("steam");
  ds.users.push_back({"bob", R"({"products":"42"})"});
  ds.items.push_back(
      {"7", R"({"app_name":"Portal","genres":"Action/Puzzle","tags":"Puzzle","specs":"Single-player",
      "developer":"Valve","publisher":"Valve","sentiment":"Overwhelmingly Positive","price":"$9.99",
      "release_date":"2007-10-10"})",
       R"({"release_date":"2007-10-10","early_access":false})"});
  Harness h(ds);
  int64_t t = at("2012-01-01 00:00:00");
  std::string item =
      "Title: Portal [Action/Puzzle]\nDeveloped by Valve | Published by Valve\nReleased: 2007-10-10 \nTags: "
      "Puzzle\nSpecifications: Single-player\nPlayer Reviews: Overwhelmingly Positive\nPrice: $9.99\n";
  EXPECT_EQ(h.profile(0), "## User Profile\nA user who has purchased 42 games\n");
  EXPECT_EQ(h.item(0, t, 0), item);
  EXPECT_EQ(h.history(0, t, 0, R"({"hours_played":12.0,"review_text":"fun"})", at("2011-12-30 00:00:00")),
            "A game purchased 2 days ago\n" + item + "My Behavior: Played 12.0 hours | Review: fun\n");
  EXPECT_EQ(*h.strategy->release_time(json::object(), json::parse(ds.items[0].features)),
            at("2007-10-10 00:00:00"));
  EXPECT_EQ(*h.strategy->release_time(json::object(), json::parse(R"({"release_date":"Oct 2007"})")), 0);
}

TEST(Strategy, RegistryNames) {
  EXPECT_EQ(make_strategy("Amazon-Beauty")->name(), "Amazon-Beauty");
  EXPECT_EQ(make_strategy("ml-32m")->name(), "ml-32m");
  EXPECT_THROW(make_strategy("netflix"), util::NotSupported);
}

TEST(Strategy, MissingDescriptionKeyFails) {
  auto ds = named("ml-1m");
  ds.users.push_back({"1", R"({"gender":"male"})"});
  Harness h(ds);
  EXPECT_THROW(h.profile(0), util::Error);
}

}  // namespace
}  // namespace um::scene
