// The dataset table cannot drift (docs/architecture.md, "… a dataset"): every name `prepare` accepts
// (data::reader_table()) has a scene strategy, every strategy family is used by some dataset, and the
// datasets with a raw fixture under tests/fixtures/raw go through prepare and scenes end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "common/shared_data.h"
#include "data/data.h"
#include "data/filters.h"
#include "scene/scene.h"
#include "util/error.h"

namespace um::scene {
namespace {

namespace fs = std::filesystem;

// A name the row accepts: the name itself, or the prefix plus a category.
std::string example_name(const data::ReaderEntry& e) { return e.prefix ? e.name + "All_Beauty" : e.name; }

TEST(DatasetTable, EveryReaderNameHasAStrategy) {
  ASSERT_FALSE(data::reader_table().empty());
  for (const auto& e : data::reader_table()) {
    SCOPED_TRACE(e.name);
    EXPECT_FALSE(e.scene_family.empty());
    const std::string name = example_name(e);
    EXPECT_EQ(&data::find_reader(name), &e);
    std::unique_ptr<Strategy> s;
    ASSERT_NO_THROW(s = make_strategy(name));
    EXPECT_EQ(s->name(), name);
  }
  EXPECT_EQ(strategy_names(), data::dataset_names());
}

TEST(DatasetTable, EveryStrategyFamilyIsUsed) {
  for (const auto& family : strategy_families()) {
    SCOPED_TRACE(family);
    EXPECT_TRUE(std::any_of(data::reader_table().begin(), data::reader_table().end(),
                            [&](const data::ReaderEntry& e) { return e.scene_family == family; }));
  }
}

TEST(DatasetTable, NamesWithoutAReaderHaveNoStrategy) {
  // ml-10m had a strategy but no reader; a bare prefix is not a dataset name.
  EXPECT_THROW(make_strategy("ml-10m"), util::NotSupported);
  EXPECT_THROW(make_strategy("Amazon-"), util::NotSupported);
  EXPECT_THROW(make_strategy("netflix"), util::NotSupported);
  EXPECT_THROW(data::find_reader("ml-10m"), util::Error);
}

// steam-australian writes the steam schema, so the steam templates render it.
TEST(DatasetTable, SteamAustralianUsesTheSteamTemplates) {
  auto australian = make_strategy("steam-australian");
  auto steam = make_strategy("steam");
  nlohmann::json d = {{"products", "277"}};
  Fields a(&d), b(&d);
  EXPECT_EQ(australian->profile_template().render(a), steam->profile_template().render(b));
  EXPECT_EQ(australian->profile_template().render(a),
            "## User Profile\nA user who has purchased 277 games\n");
  EXPECT_TRUE(australian->has_time_filter());
}

// Which MovieLens release has user attributes is a field of its reader row (it was a comparison of
// names in the movielens strategy): the profile template is rendered exactly for those rows.
TEST(DatasetTable, MovieLensProfileFollowsTheRowsUserAttributes) {
  std::vector<std::string> with_attributes;
  for (const auto& e : data::reader_table()) {
    if (e.scene_family != "movielens") continue;
    SCOPED_TRACE(e.name);
    EXPECT_EQ(make_strategy(e.name)->profile_template().empty(), !e.user_attributes);
    if (e.user_attributes) with_attributes.push_back(e.name);
  }
  EXPECT_EQ(with_attributes, (std::vector<std::string>{"ml-100k", "ml-1m"}));
}

// The filter values a dataset's reader applies come from its row (ReaderEntry::filters, handed over as
// ReadContext::defaults), each overridden by the user's FilterOptions field of the same name.
TEST(DatasetTable, FilterDefaultsComeFromTheRow) {
  data::ReadContext ctx;
  ctx.defaults = {.min_user_interactions = 5, .max_user_interactions = 20, .min_item_interactions = 2};
  ctx.filters.max_user_interactions = 0;
  const data::CountFilter f = data::count_filter(ctx);
  EXPECT_EQ(f.min_user, 5);
  EXPECT_EQ(f.max_user, 0);
  EXPECT_EQ(f.min_item, 2);
  EXPECT_FALSE(f.kcore);
}

// A copy of a raw fixture with the ".fixture" suffix taken off file names (see
// tests/data/prepare_helpers.h for why some fixtures carry it).
fs::path raw_copy(const std::string& folder) {
  const fs::path from = testing::source_dir() / "tests" / "fixtures" / "raw" / folder;
  const fs::path out = testing::temp_dir("raw-" + folder);
  fs::copy(from, out, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string file = e.path().filename().string();
    if (file.ends_with(".fixture")) fs::rename(e.path(), e.path().parent_path() / fs::path(file).stem());
  }
  return out;
}

size_t lines(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

struct Fixture {
  std::string dataset, folder;
};

// prepare + scenes on every raw fixture, with filters loose enough for their few lines. The fixtures
// are made for the readers: none has a user with the four interactions a scene target needs
// (docs/method.md §4.2), so this checks that `scenes` finds the strategy and loads what `prepare`
// wrote; SteamAustralianScenesEndToEnd below builds scenes.
TEST(DatasetTable, FixturesPrepareAndBuildScenes) {
  const std::vector<Fixture> fixtures = {
      {"Amazon-All_Beauty", "amazon-2023"},
      {"goodreads", "goodreads"},
      {"KuaiRec2", "kuairec"},
      {"LastFM", "lastfm"},
      {"MIND", "mind-dev"},
      {"mobilerec", "mobilerec"},
      {"steam", "steam"},
      {"steam-australian", "steam-australian"},
  };
  for (const auto& f : fixtures) {
    SCOPED_TRACE(f.dataset);
    ASSERT_NE(data::match_reader(f.dataset), nullptr);
    const fs::path work = testing::temp_dir("work-" + f.folder);
    data::PrepareOptions p{.dataset = f.dataset, .raw_dir = raw_copy(f.folder), .work_dir = work};
    p.filters.min_user_interactions = 1;
    p.filters.min_item_interactions = 1;
    ASSERT_NO_THROW(data::prepare(p));
    ScenesOptions o;
    o.work = work;
    o.dataset = f.dataset;
    o.split = "train";
    o.samples = 4;
    o.shape = {.min_options = 2, .max_options = 3};
    o.scorers = {"random"};
    o.threads = 1;
    o.progress = false;
    ScenesReport r;
    ASSERT_NO_THROW(r = run_scenes(o));
    EXPECT_GT(r.interactions, 0u);
    EXPECT_EQ(lines(r.output), r.written);
  }
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// A tiny raw steam-australian folder in the official format (Python-literal lines): six games
// released in 2000, user "u1" reviews games 1-5 in March 2012 (owning them with 90 minutes each),
// "u2" reviews games 6 and 1.
fs::path steam_australian_raw() {
  const fs::path raw = testing::temp_dir("raw-steam-australian-scenes");
  std::string games;
  for (int g = 1; g <= 6; ++g) {
    const std::string id = std::to_string(g);
    games +=
        "{u'publisher': u'P" + id + "', u'genres': [u'Action'], u'app_name': u'Game " + id +
        "', u'title': u'Game " + id + "', u'release_date': u'2000-01-0" + id +
        "', u'tags': [u'Puzzle'], u'specs': [u'Single-player'], u'price': 9.99, u'sentiment': u'Positive', "
        "u'early_access': False, u'id': u'" +
        id + "', u'developer': u'D" + id + "'}\n";
  }
  write(raw / "steam_games.json", games);
  auto review = [](int item, int day) {
    return "{'funny': '', 'posted': 'Posted March " + std::to_string(day) + ", 2012.', 'item_id': '" +
           std::to_string(item) + "', 'helpful': 'No ratings yet', 'recommend': True, 'review': 'fun " +
           std::to_string(item) + "'}";
  };
  std::string u1;
  for (int g = 1; g <= 5; ++g) u1 += (g > 1 ? ", " : "") + review(g, g);
  write(raw / "australian_user_reviews.json",
        "{'user_id': 'u1', 'user_url': 'http://steamcommunity.com/id/u1', 'reviews': [" + u1 + "]}\n" +
            "{'user_id': 'u2', 'user_url': 'http://steamcommunity.com/id/u2', 'reviews': [" + review(6, 10) +
            ", " + review(1, 11) + "]}\n");
  std::string owned;
  for (int g = 1; g <= 5; ++g)
    owned += std::string(g > 1 ? ", " : "") + "{'item_id': '" + std::to_string(g) +
             "', 'item_name': 'Game', 'playtime_forever': 90, 'playtime_2weeks': 0}";
  write(raw / "australian_users_items.json",
        "{'user_id': 'u1', 'items_count': 42, 'steam_id': '1', 'user_url': 'x', 'items': [" + owned + "]}\n");
  return raw;
}

// prepare hands the reader its row's filter values: steam-australian keeps users with 5 to 20 reviews
// unless overridden, so u2 (2 reviews) is dropped by default and kept with --min-user-interactions 1.
TEST(DatasetTable, PrepareAppliesTheRowsFilterDefaults) {
  const data::ReaderEntry& row = data::find_reader("steam-australian");
  EXPECT_EQ(row.filters.min_user_interactions, 5);
  EXPECT_EQ(row.filters.max_user_interactions, 20);
  const fs::path raw = steam_australian_raw();
  data::PrepareOptions p{.dataset = "steam-australian",
                         .raw_dir = raw,
                         .work_dir = testing::temp_dir("work-steam-australian-defaults")};
  EXPECT_EQ(data::prepare(p).users, 1u);
  p.filters.min_user_interactions = 1;
  EXPECT_EQ(data::prepare(p).users, 2u);
}

// What the steam-australian reader writes renders with the steam templates.
TEST(DatasetTable, SteamAustralianScenesEndToEnd) {
  const fs::path work = testing::temp_dir("work-steam-australian-scenes");
  data::PrepareOptions p{.dataset = "steam-australian", .raw_dir = steam_australian_raw(), .work_dir = work};
  p.filters.min_user_interactions = 1;
  p.filters.min_item_interactions = 1;
  ASSERT_NO_THROW(data::prepare(p));
  ScenesOptions o;
  o.work = work;
  o.dataset = "steam-australian";
  o.split = "train";
  o.samples = 2;
  o.shape = {.min_options = 2, .max_options = 2};
  o.scorers = {"random"};
  o.threads = 1;
  o.progress = false;
  const ScenesReport r = run_scenes(o);
  ASSERT_EQ(r.written, 2u);  // u1's 4th and 5th reviews
  std::ifstream in(r.output);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(all.find("A user who has purchased 42 games"), std::string::npos) << all;
  EXPECT_NE(all.find("My Behavior: Played 1.5 hours | Review: fun 1"), std::string::npos) << all;
  EXPECT_NE(all.find("Developed by D1 | Published by P1"), std::string::npos) << all;
}

}  // namespace
}  // namespace um::scene
