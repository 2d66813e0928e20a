// The arena in a world whose truth the test knows (issue: "a control simulator that *is* that model
// must recover the known quality order ... with τ = 1").
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "arena/arena.h"
#include "arena_test_world.h"
#include "common/shared_data.h"

namespace um::arena {
namespace {

using testing::known_world;
using testing::quality;
using testing::write_list_file;

struct World {
  std::filesystem::path work;
  data::Dataset ds;
  recommend::Split split;
  std::string good, medium, reversed;
};

World make_world(const std::string& tag) {
  World w;
  w.work = um::testing::temp_dir(tag);
  w.ds = known_world();
  data::write_dataset(w.work, w.ds);
  w.split = recommend::make_split(w.ds, recommend::parse_split("leave-last:3"));
  auto dir = w.work / "lists";
  std::filesystem::create_directories(dir);
  w.good = "file:" +
           write_list_file(dir / "good.jsonl", w.ds, w.split, [](uint32_t i) { return quality(i); }).string();
  // Medium: quality blurred by a fixed pseudo-random offset per item.
  w.medium = "file:" + write_list_file(dir / "medium.jsonl", w.ds, w.split, [](uint32_t i) {
                         return quality(i) + 0.6 * util::Rng::stream(1, "medium", i).uniform01();
                       }).string();
  w.reversed = "file:" + write_list_file(dir / "reversed.jsonl", w.ds, w.split, [](uint32_t i) {
                           return -quality(i);
                         }).string();
  return w;
}

ArenaOptions options(const World& w, const std::string& name) {
  ArenaOptions o;
  o.work = w.work;
  o.dataset = w.ds.name;
  o.recommenders = {w.reversed, w.good, w.medium};
  o.split = "leave-last:3";
  o.users = 0;
  o.page_size = 5;
  o.name = name;
  o.seed = 3;
  o.bootstrap = 400;
  o.figures = false;
  o.progress = false;
  o.controls = {"baseline:uniform"};
  return o;
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(ArenaKnownWorld, TheTrueUtilityModelRecoversTheQualityOrderWithTauOne) {
  World w = make_world("arena-known");
  ArenaOptions o = options(w, "truth");
  o.simulator = "utility";
  testing::UtilityModel truth(6.0);
  util::Summary summary("arena");
  ArenaResult r = run_arena(o, truth, summary);
  ASSERT_EQ(r.ranking, (std::vector<std::string>{w.good, w.medium, w.reversed}));
  auto rep = read_json(r.report_json);
  ASSERT_FALSE(rep["agreement"].empty());
  for (const auto& a : rep["agreement"]) EXPECT_DOUBLE_EQ(a["kendall_tau"].get<double>(), 1.0) << a.dump();
  // good beats reversed clearly: the interval excludes 0.5.
  bool checked = false;
  for (const auto& p : rep["pairwise"]) {
    if (p["a"] == w.reversed && p["b"] == w.good) {
      EXPECT_LT(p["ci_high"].get<double>(), 0.5);
      checked = true;
    }
  }
  EXPECT_TRUE(checked);
  // The uniform control ranks at random: its agreement is reported beside the simulator's.
  ASSERT_EQ(rep["controls"].size(), 1u);
  EXPECT_EQ(rep["controls"][0]["simulator"], "baseline:uniform");
}

TEST(ArenaKnownWorld, UniformSimulatorGivesWinRatesWhoseIntervalsContainOneHalf) {
  World w = make_world("arena-uniform");
  ArenaOptions o = options(w, "uniform");
  o.simulator = "baseline:uniform";
  o.controls = {};
  util::Summary summary("arena");
  ArenaResult r = run_arena(o, summary);
  auto rep = read_json(r.report_json);
  ASSERT_EQ(rep["pairwise"].size(), 3u);
  for (const auto& p : rep["pairwise"]) {
    EXPECT_LE(p["ci_low"].get<double>(), 0.5) << p.dump();
    EXPECT_GE(p["ci_high"].get<double>(), 0.5) << p.dump();
  }
}

TEST(ArenaKnownWorld, TeamDraftIsUnbiasedForIdenticalRecommenders) {
  World w = make_world("arena-identical");
  auto copy = w.work / "lists" / "good-copy.jsonl";
  std::filesystem::copy_file(w.good.substr(5), copy);
  ArenaOptions o = options(w, "identical");
  o.recommenders = {w.good, "file:" + copy.string()};
  o.simulator = "utility";
  testing::UtilityModel truth(6.0);
  util::Summary summary("arena");
  ArenaResult r = run_arena(o, truth, summary);
  auto rep = read_json(r.report_json);
  ASSERT_EQ(rep["pairwise"].size(), 1u);
  EXPECT_LE(rep["pairwise"][0]["ci_low"].get<double>(), 0.5);
  EXPECT_GE(rep["pairwise"][0]["ci_high"].get<double>(), 0.5);
}

TEST(ArenaKnownWorld, MultileavingOfAllRecommendersRecoversTheQualityOrder) {
  World w = make_world("arena-multileave");
  ArenaOptions o = options(w, "multileave");
  o.protocol = "multileave";
  o.page_size = 6;
  o.simulator = "utility";
  testing::UtilityModel truth(6.0);
  util::Summary summary("arena");
  ArenaResult r = run_arena(o, truth, summary);
  EXPECT_EQ(r.ranking, (std::vector<std::string>{w.good, w.medium, w.reversed}));
  EXPECT_EQ(r.pages, r.users);  // one page per user holding every team
  auto rep = read_json(r.report_json);
  double total = 0;
  for (const auto& rec : rep["recommenders"]) total += rec["simulated"]["score"].get<double>();
  EXPECT_NEAR(total, 1.0, 1e-9);  // the teams' shares of each choice add up to one
  for (const auto& a : rep["agreement"]) EXPECT_DOUBLE_EQ(a["kendall_tau"].get<double>(), 1.0);
}

TEST(ArenaKnownWorld, PageAndSessionProtocolsRankByMassOnHeldOutItems) {
  World w = make_world("arena-page");
  for (const std::string protocol : {"page", "session"}) {
    ArenaOptions o = options(w, protocol);
    o.protocol = protocol;
    o.rounds = 3;
    o.simulator = "utility";
    testing::UtilityModel truth(6.0);
    util::Summary summary("arena");
    ArenaResult r = run_arena(o, truth, summary);
    EXPECT_EQ(r.ranking.front(), w.good) << protocol;
    EXPECT_EQ(r.ranking.back(), w.reversed) << protocol;
    auto rep = read_json(r.report_json);
    for (const auto& rec : rep["recommenders"]) {
      ASSERT_TRUE(rec["simulated"].contains("position_curve")) << protocol;
      EXPECT_EQ(rec["simulated"]["position_curve"].size(), 5u);
      if (protocol == "session") {
        ASSERT_EQ(rec["simulated"]["rounds"].size(), 3u);
        EXPECT_TRUE(rec["simulated"].contains("popularity_drift"));
      }
    }
  }
}

}  // namespace
}  // namespace um::arena
