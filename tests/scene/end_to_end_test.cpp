// prepare → scenes on the real ml-100k files in ../shared/data: invariants of every written scene,
// eval-then-train user restriction, and byte-identical output across thread counts.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/shared_data.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "scene/scene.h"

namespace um::scene {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(EndToEnd, Ml100kEvalThenTrain) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  auto work = um::testing::temp_dir("scene-e2e");
  data::PrepareOptions p;
  p.dataset = "ml-100k";
  p.raw_dir = raw;
  p.work_dir = work;
  data::prepare(p);
  data::Dataset ds = data::load_dataset(work, "ml-100k");
  ASSERT_EQ(ds.interactions.size(), 100000u);

  ScenesOptions eval;
  eval.work = work;
  eval.dataset = "ml-100k";
  eval.split = "eval";
  eval.samples = 256;
  eval.shape = {.min_options = 5, .max_options = 5};
  eval.progress = false;
  eval.threads = 2;
  ScenesReport er = run_scenes(eval);
  EXPECT_EQ(er.written, 256u);
  auto eval_rows = read_scene_file(work / "datasets" / "ml-100k_eval.jsonl");
  ASSERT_EQ(eval_rows.size(), 256u);

  ScenesOptions train = eval;
  train.split = "train";
  train.samples = 1024;
  train.shape = {.min_options = 2, .max_options = 12};
  train.with_impressions = true;
  ScenesReport tr = run_scenes(train);
  EXPECT_GT(tr.eval_users, 0u);
  EXPECT_EQ(
      tr.written +
          [&] {
            uint64_t s = 0;
            for (auto& [k, v] : tr.skips) s += v;
            return s;
          }(),
      tr.sampled);
  auto rows = read_scene_file(work / "datasets" / "ml-100k_train.jsonl");
  ASSERT_EQ(rows.size(), tr.written);
  ASSERT_GT(rows.size(), 1000u);

  std::set<std::string> eval_users;
  for (auto& r : eval_rows) eval_users.insert(r.user_id);
  // index of the real data: user → (time, item) list
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> by_user;
  for (auto& it : ds.interactions) by_user[it.user_id].push_back({it.timestamp_us, it.item_id});
  std::map<std::string, std::string> titles;
  for (auto& it : ds.items) titles[it.id] = nlohmann::json::parse(it.description)["title"].get<std::string>();
  for (auto& r : rows) {
    EXPECT_TRUE(eval_users.count(r.user_id)) << "train scene of a user outside the eval set";
    ASSERT_EQ(r.choice_cnt, static_cast<int>(r.impression_list.size()));
    EXPECT_GE(r.choice_cnt, 2);
    EXPECT_LE(r.choice_cnt, 12);
    EXPECT_EQ(r.impression_list[static_cast<size_t>(r.item_pos)], r.item_id);
    EXPECT_NE(r.text.action_list[static_cast<size_t>(r.item_pos)].find(titles[r.item_id]), std::string::npos);
    const auto& mine = by_user[r.user_id];
    std::set<std::string> touched;
    for (auto& [t, i] : mine) touched.insert(i);
    for (size_t i = 0; i < r.impression_list.size(); ++i) {
      if (static_cast<int>(i) != r.item_pos) {
        EXPECT_FALSE(touched.count(r.impression_list[i]));
      }
    }
    // every history entry is an item the user rated strictly before the target
    std::set<std::string> earlier_titles;
    for (auto& [t, i] : mine) {
      if (t / 1000 < r.timestamp) earlier_titles.insert(titles[i]);
    }
    size_t entries = 0;
    std::istringstream hs(r.text.history);
    std::string line;
    bool next_is_title = false;
    while (std::getline(hs, line)) {
      if (next_is_title) {
        // "<title> <genres> " — find the title this line starts with
        bool found = false;
        for (auto& t : earlier_titles) found = found || line.rfind(t + " ", 0) == 0;
        EXPECT_TRUE(found) << line;
        ++entries;
      }
      next_is_title = line.rfind("A movie viewed ", 0) == 0;
    }
    EXPECT_GE(entries, std::min<size_t>(2, earlier_titles.size()));
    EXPECT_LE(entries, 10u);
    EXPECT_EQ(r.text.profile.rfind("## User Profile\nGender: ", 0), 0u);
  }

  // Same seed, other thread count → identical bytes.
  std::string first = slurp(work / "datasets" / "ml-100k_train.jsonl");
  train.threads = 1;
  train.output = work / "again.jsonl";
  run_scenes(train);
  EXPECT_EQ(first, slurp(work / "again.jsonl"));
}

}  // namespace
}  // namespace um::scene
