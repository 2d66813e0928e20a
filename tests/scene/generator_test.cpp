// Scene generation on in-memory datasets: history/exposure invariants, filters, determinism across
// thread counts, and MIND's real impressions and static click history.
#include <gtest/gtest.h>

#include <set>

#include "scene/scene.h"
#include "test_datasets.h"
#include "util/error.h"

namespace um::scene {
namespace {

using testing::at;

std::string run_all(const data::Dataset& ds, SceneConfig cfg, unsigned threads, size_t* written = nullptr) {
  cfg.threads = threads;
  SceneGenerator gen(ds, cfg);
  auto targets = gen.sample_targets(nullptr);
  std::string out;
  size_t n = 0;
  build_scenes(gen, targets, threads, [&](const SceneOutcome& o) {
    if (o.record) {
      util::JsonWriter w(/*ascii=*/true);
      write_scene(w, *o.record, /*with_impressions=*/true);
      out += w.str();
      out.push_back('\n');
      ++n;
    }
  });
  if (written) *written = n;
  return out;
}

SceneConfig train_config() {
  SceneConfig cfg;
  cfg.split = "train";
  cfg.samples = 200;
  cfg.shape = {.min_options = 2, .max_options = 12};
  cfg.seed = 11;
  return cfg;
}

TEST(Generator, SameSeedSameBytesForAnyThreadCount) {
  auto ds = testing::synthetic_movielens();
  size_t n1 = 0;
  std::string one = run_all(ds, train_config(), 1, &n1);
  EXPECT_GT(n1, 50u);
  EXPECT_EQ(one, run_all(ds, train_config(), 2));
  EXPECT_EQ(one, run_all(ds, train_config(), 5));
  auto other = train_config();
  other.seed = 12;
  EXPECT_NE(one, run_all(ds, other, 2));
}

TEST(Generator, InvariantsOfEveryScene) {
  auto ds = testing::synthetic_movielens();
  auto cfg = train_config();
  cfg.threads = 2;
  SceneGenerator gen(ds, cfg);
  const auto& idx = gen.index();
  size_t candidates = 0;
  auto targets = gen.sample_targets(nullptr, &candidates);
  EXPECT_EQ(targets.size(), std::min<size_t>(200, candidates));
  EXPECT_EQ(std::set<uint32_t>(targets.begin(), targets.end()).size(), targets.size());  // no replacement
  std::set<int> lengths;
  for (size_t s = 0; s < targets.size(); ++s) {
    uint32_t k = targets[s];
    EXPECT_GE(idx.order_id(k), 3u);
    auto o = gen.build(s, k);
    if (!o.record) continue;
    const auto& r = *o.record;
    const auto& inter = ds.interactions[k];
    EXPECT_EQ(r.item_id, inter.item_id);
    EXPECT_EQ(r.user_id, inter.user_id);
    EXPECT_EQ(r.timestamp, inter.timestamp_us / 1000);
    ASSERT_EQ(r.choice_cnt, static_cast<int>(r.impression_list.size()));
    ASSERT_EQ(r.text.action_list.size(), r.impression_list.size());
    EXPECT_GE(r.choice_cnt, 2);
    EXPECT_LE(r.choice_cnt, 12);
    lengths.insert(r.choice_cnt);
    EXPECT_EQ(r.impression_list[static_cast<size_t>(r.item_pos)], inter.item_id);
    uint32_t user = idx.interaction_user(k);
    std::set<std::string> seen;
    for (size_t i = 0; i < r.impression_list.size(); ++i) {
      EXPECT_TRUE(seen.insert(r.impression_list[i]).second) << "duplicate option";
      if (static_cast<int>(i) == r.item_pos) continue;
      auto row = static_cast<uint32_t>(idx.item_row(r.impression_list[i]));
      EXPECT_FALSE(idx.has_touched(user, row)) << "negative the user interacted with";
      // time filter: released (Jan 1 of year) no later than the target
      int year = std::stoi(nlohmann::json::parse(ds.items[row].description)["year"].get<std::string>());
      EXPECT_LE(*util::parse_datetime(std::to_string(year) + "-01-01"), inter.timestamp_us);
    }
    // history: the last k (2..10) entries strictly before the target, ascending
    size_t before = idx.count_before(user, inter.timestamp_us);
    size_t entries = r.text.history.empty() ? 0 : 1;
    for (size_t p = r.text.history.find("\nA movie viewed"); p != std::string::npos;
         p = r.text.history.find("\nA movie viewed", p + 1))
      ++entries;
    EXPECT_LE(entries, std::min<size_t>(before, 10));
    EXPECT_GE(entries, std::min<size_t>(before, 2));
    // the newest history entry is the last interaction strictly before the target
    if (before > 0) {
      const auto& last = ds.interactions[idx.timeline(user).begin()[before - 1]];
      auto title = nlohmann::json::parse(
                       ds.items[static_cast<size_t>(idx.item_row(last.item_id))].description)["title"]
                       .get<std::string>();
      EXPECT_NE(r.text.history.rfind(title), std::string::npos);
      EXPECT_LT(last.timestamp_us, inter.timestamp_us);
    }
    EXPECT_EQ(r.text.profile.rfind("## User Profile\n", 0), 0u);
  }
  EXPECT_GT(lengths.size(), 5u);
}

TEST(Generator, HistoryExcludesTiesAndFuture) {
  data::Dataset ds;
  ds.name = "ml-1m";
  ds.users.push_back({"1", R"({"gender":"male","age":"25-34","occupation":"other","location":"Unknown"})"});
  for (int i = 1; i <= 12; ++i) {
    ds.items.push_back({std::to_string(i),
                        R"({"title":"M)" + std::to_string(i) + R"(","genres":"G","year":"1990"})",
                        R"({"year":"1990"})"});
  }
  const char* times[] = {"2000-01-01 00:00:00", "2000-01-02 00:00:00", "2000-01-03 00:00:00",
                         "2000-01-04 00:00:00", "2000-01-04 00:00:00", "2000-01-05 00:00:00"};
  for (int i = 0; i < 6; ++i)
    ds.interactions.push_back({"1", std::to_string(i + 1), at(times[i]), R"({"rating":3.0})"});
  SceneConfig cfg;
  cfg.samples = 10;
  cfg.shape = {.min_options = 2, .max_options = 2};
  cfg.scorers = {"random"};
  SceneGenerator gen(ds, cfg);
  auto targets = gen.sample_targets(nullptr);
  ASSERT_EQ(targets.size(), 3u);  // order_id 3, 4, 5
  for (size_t s = 0; s < targets.size(); ++s) {
    auto o = gen.build(s, targets[s]);
    ASSERT_TRUE(o.record);
    const auto& h = o.record->text.history;
    if (o.record->item_id == "4" || o.record->item_id == "5") {
      EXPECT_EQ(h.find("M4 "), std::string::npos);  // same-time twin is not history
      EXPECT_EQ(h.find("M5 "), std::string::npos);
    }
    EXPECT_EQ(h.find("M6 "), std::string::npos);  // never the future
    // the only unseen items are 7..12: every negative comes from there
    for (size_t i = 0; i < o.record->impression_list.size(); ++i) {
      if (static_cast<int>(i) != o.record->item_pos) {
        EXPECT_GE(std::stoi(o.record->impression_list[i]), 7);
      }
    }
  }
}

TEST(Generator, TimeFilterDropsUnreleasedItems) {
  data::Dataset ds;
  ds.name = "ml-1m";
  ds.users.push_back({"1", R"({"gender":"male","age":"25-34","occupation":"other","location":"Unknown"})"});
  for (int i = 1; i <= 4; ++i) {
    ds.items.push_back(
        {std::to_string(i), R"({"title":"Seen","genres":"G","year":"1990"})", R"({"year":"1990"})"});
    ds.interactions.push_back({"1", std::to_string(i), at("2000-01-01 00:00:00") + i, R"({"rating":3.0})"});
  }
  for (int i = 5; i <= 40; ++i) {
    std::string year = i % 2 ? "2005" : "1999";  // odd ids are released after the target
    ds.items.push_back({std::to_string(i), R"({"title":"T","genres":"G","year":")" + year + "\"}",
                        R"({"year":")" + year + "\"}"});
  }
  SceneConfig cfg;
  cfg.samples = 1;
  cfg.shape = {.min_options = 12, .max_options = 12};
  cfg.scorers = {"random"};
  cfg.top_k = 40;
  SceneGenerator gen(ds, cfg);
  auto t = gen.sample_targets(nullptr);
  ASSERT_EQ(t.size(), 1u);
  auto o = gen.build(0, t[0]);
  ASSERT_TRUE(o.record);
  for (size_t i = 0; i < o.record->impression_list.size(); ++i) {
    if (static_cast<int>(i) != o.record->item_pos) {
      EXPECT_EQ(std::stoi(o.record->impression_list[i]) % 2, 0);
    }
  }
  cfg.shape = {.min_options = 30, .max_options = 30};  // only 18 released unseen items: dropped
  SceneGenerator gen2(ds, cfg);
  auto o2 = gen2.build(0, t[0]);
  EXPECT_FALSE(o2.record);
  EXPECT_EQ(o2.skip_reason, "too few candidates after filtering");
}

TEST(Generator, UserRestrictionForTrainSets) {
  auto ds = testing::synthetic_movielens();
  SceneGenerator gen(ds, train_config());
  std::vector<std::string> users = {"3", "7"};
  auto targets = gen.sample_targets(&users);
  ASSERT_FALSE(targets.empty());
  for (auto k : targets) EXPECT_TRUE(ds.interactions[k].user_id == "3" || ds.interactions[k].user_id == "7");
}

data::Dataset tiny_mind() {
  data::Dataset ds;
  ds.name = "MIND";
  ds.users.push_back({"U1", "{}", R"({"history":["N1","N2","N404","N3"]})"});
  for (int i = 1; i <= 8; ++i) {
    ds.items.push_back(
        {"N" + std::to_string(i),
         R"({"title":"T)" + std::to_string(i) + R"(","category":"news","subcategory":"x","abstract":null})",
         R"({"time":0.0})"});
  }
  ds.interactions.push_back(
      {"U1", "N5", at("2019-11-10 10:00:00"), R"({"impression_list":["N6","N5","N7"],"item_pos":1})"});
  ds.interactions.push_back(
      {"U1", "N6", at("2019-11-11 10:00:00"), R"({"impression_list":["N6","N8"],"item_pos":0})"});
  return ds;
}

TEST(Generator, MindRealImpressionsAndStaticHistory) {
  auto ds = tiny_mind();
  SceneConfig cfg;
  cfg.split = "train";
  cfg.samples = 10;
  cfg.shape = {.min_options = 2, .max_options = 12};
  SceneGenerator gen(ds, cfg);
  ASSERT_TRUE(gen.real_impressions());
  auto targets = gen.sample_targets(nullptr);
  ASSERT_EQ(targets.size(), 2u);
  for (size_t s = 0; s < targets.size(); ++s) {
    auto o = gen.build(s, targets[s]);
    ASSERT_TRUE(o.record);
    EXPECT_EQ(o.dropped_static_history, 1u);  // N404 is not in the item table
    if (o.record->item_id == "N5") {
      EXPECT_EQ(o.record->impression_list, (std::vector<std::string>{"N6", "N5", "N7"}));
      EXPECT_EQ(o.record->item_pos, 1);
      EXPECT_EQ(o.record->text.action_list[1], "T5 (Category: news)\n");
    } else {
      EXPECT_EQ(o.record->item_pos, 0);
      // static entries render "earlier"; the real earlier click comes last
      EXPECT_NE(o.record->text.history.find(
                    "T3 (Category: news) { Viewed earlier }\n\nT5 (Category: news) { Viewed 1 day ago }\n"),
                std::string::npos);
    }
  }
  // an eval set with 3..3 options: only the first impression qualifies
  cfg.impressions = ImpressionMode::Real;
  cfg.shape = {.min_options = 3, .max_options = 3};
  SceneGenerator gen3(ds, cfg);
  EXPECT_EQ(gen3.sample_targets(nullptr).size(), 1u);
  // datasets without impressions refuse Real
  auto ml = testing::synthetic_movielens(5, 20);
  EXPECT_THROW(SceneGenerator(ml, cfg), util::NotSupported);
}

TEST(Generator, InteractionsWithUnknownIdsAreIgnored) {
  auto ds = testing::synthetic_movielens(3, 10);
  for (int i = 0; i < 5; ++i) ds.interactions.push_back({"1", "nope", i, "{}"});
  ds.interactions.push_back({"ghost", "1", 0, "{}"});
  SceneConfig cfg;
  cfg.samples = 1000;
  cfg.shape = {.min_options = 2, .max_options = 2};
  SceneGenerator gen(ds, cfg);
  EXPECT_EQ(gen.index().num_invalid(), 6u);
  for (auto k : gen.sample_targets(nullptr)) EXPECT_NE(ds.interactions[k].item_id, "nope");
  EXPECT_EQ(gen.index().timeline(0).size() + gen.index().timeline(1).size() + gen.index().timeline(2).size(),
            ds.interactions.size() - 6);
}

}  // namespace
}  // namespace um::scene
