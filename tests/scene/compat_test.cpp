// Scene building with Compat::reference (docs/reference-differences.md, "--compat reference"): each
// reference behaviour the switch selects, with a check that fails without the switch, and explicit
// options winning over it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include "common/shared_data.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "scene/scene.h"
#include "test_datasets.h"
#include "util/error.h"

namespace um::scene {
namespace {

using testing::at;

std::vector<SceneRecord> build_all(const data::Dataset& ds, const SceneConfig& cfg) {
  SceneGenerator gen(ds, cfg);
  std::vector<SceneRecord> out;
  auto targets = gen.sample_targets(nullptr);
  for (size_t s = 0; s < targets.size(); ++s) {
    auto o = gen.build(s, targets[s]);
    if (o.record) out.push_back(*o.record);
  }
  return out;
}

SceneConfig train_config(data::Compat compat) {
  SceneConfig cfg;
  cfg.split = "train";
  cfg.samples = 300;
  cfg.shape = {.min_options = 2, .max_options = 6};
  cfg.scorers = {"random", "collaborative"};  // explicit: no content vectors needed
  cfg.threads = 1;
  cfg.compat = compat;
  return cfg;
}

TEST(SceneCompat, GroundTruthNeverLastUnlessExplicitlyUniform) {
  auto ds = testing::synthetic_movielens(40, 60);
  auto count_last = [&](const SceneConfig& cfg) {
    int last = 0, n = 0;
    for (const auto& r : build_all(ds, cfg)) {
      ++n;
      last += r.item_pos == r.choice_cnt - 1;
    }
    EXPECT_GT(n, 100);
    return last;
  };
  EXPECT_GT(count_last(train_config(data::Compat::usermirror)), 0);
  EXPECT_EQ(count_last(train_config(data::Compat::reference)), 0);  // U{0..n_neg−1}, §11.1
  SceneConfig uniform = train_config(data::Compat::reference);
  uniform.shape.reference_positions = false;  // an explicit option wins over the switch
  EXPECT_GT(count_last(uniform), 0);
}

bool same_scenes(const std::vector<SceneRecord>& a, const std::vector<SceneRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].impression_list != b[i].impression_list || a[i].item_pos != b[i].item_pos) return false;
  }
  return true;
}

TEST(SceneCompat, CollaborativeQueryIsTheWholeRowByDefault) {
  auto ds = testing::synthetic_movielens(40, 60);
  SceneConfig cfg = train_config(data::Compat::reference);
  cfg.scorers = {"collaborative"};
  const auto by_switch = build_all(ds, cfg);
  cfg.collaborative_full_history = true;
  EXPECT_TRUE(same_scenes(by_switch, build_all(ds, cfg)));
  cfg.collaborative_full_history = false;  // explicit: only earlier interactions
  EXPECT_FALSE(same_scenes(by_switch, build_all(ds, cfg)));
}

TEST(SceneCompat, Float32SoftmaxUnderflowsAndTiesGoToLowerIndices) {
  std::vector<float> s = {0.0f, -200.0f, 5.0f, -120.0f, 4.0f};
  std::vector<uint32_t> raw, soft;
  top_k_indices(s.data(), s.size(), 5, raw);
  EXPECT_EQ(raw, (std::vector<uint32_t>{2, 4, 0, 3, 1}));
  float32_softmax(s.data(), s.size());
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_EQ(s[3], 0.0f);  // exp(−125) is below float32's smallest subnormal
  EXPECT_GT(s[0], 0.0f);
  EXPECT_NEAR(s[2] + s[4] + s[0], 1.0f, 1e-6f);
  top_k_indices(s.data(), s.size(), 5, soft);
  EXPECT_EQ(soft, (std::vector<uint32_t>{2, 4, 0, 1, 3}));  // the zero ties: lower index first
}

// Length of the longest suffix of `list` that is the lowest iids not earlier in the list, ascending
// (the zero-probability ties torch's topk returns after a float32 softmax underflow).
size_t lowest_iid_tail(const DatasetIndex& idx, const std::vector<uint32_t>& list) {
  for (size_t m = 0; m < list.size(); ++m) {
    std::set<uint32_t> head;
    for (size_t i = 0; i < m; ++i) head.insert(static_cast<uint32_t>(idx.item_iid(list[i])));
    uint32_t next = 0;
    bool ok = true;
    for (size_t i = m; i < list.size() && ok; ++i) {
      while (head.count(next)) ++next;
      ok = static_cast<uint32_t>(idx.item_iid(list[i])) == next++;
    }
    if (ok) return list.size() - m;
  }
  return 0;
}

// On ml-1m (../shared/data) the collaborative scores span hundreds: after the reference's float32
// softmax only a few items keep a non-zero probability, and the rest of each list is the
// zero-probability ties at the lowest iids.
TEST(SceneCompat, CollaborativeListsFillWithLowestIidsAfterTheSoftmax) {
  UM_REQUIRE_SHARED(raw, "data/ml-1m");
  const auto work = um::testing::temp_dir("compat-collab");
  data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = work});
  const data::Dataset ds = data::load_dataset(work, "ml-1m");
  DatasetIndex idx(ds);
  SocialGraph social;
  auto lists = [&](data::Compat compat) {
    ScorerContext ctx{idx, social, {}, {}, 0, 2, true, compat};
    auto sc = make_scorer("collaborative", ctx);
    std::vector<std::vector<uint32_t>> out;
    for (uint32_t u = 0; u < 400; u += 20) {
      auto tl = idx.timeline(u);
      const uint32_t k = tl.begin()[tl.size() / 2];
      ScoreQuery q{u, idx.interaction_item(k), ds.interactions[k].timestamp_us, tl.size() / 2};
      util::Rng rng = util::Rng::stream(0, "t", u);
      out.emplace_back();
      sc->top_k(q, 36, rng, out.back());
    }
    return out;
  };
  size_t ours_tail = 0, ref_tail = 0;
  for (const auto& l : lists(data::Compat::usermirror)) ours_tail += lowest_iid_tail(idx, l);
  for (const auto& l : lists(data::Compat::reference)) {
    ASSERT_EQ(l.size(), 36u);
    ref_tail += lowest_iid_tail(idx, l);
  }
  EXPECT_LT(ours_tail, 20 * 2u);  // raw scores: no such fill
  EXPECT_GT(ref_tail, 20 * 20u);  // most of each list
}

TEST(SceneCompat, ContentQueryIsTheRowAtTheGroundTruthsIid) {
  auto ds = testing::synthetic_movielens(30, 40);
  DatasetIndex idx(ds);
  // iid order (first appearance in the shuffled interaction file) differs from item-file order.
  int differ = 0;
  for (uint32_t i = 0; i < ds.items.size(); ++i)
    differ += idx.item_iid(i) >= 0 && idx.item_iid(i) != static_cast<int32_t>(i);
  ASSERT_GT(differ, 10);
  const auto vec = um::testing::temp_dir("compat-content") / "vectors.jsonl";
  {
    std::ofstream f(vec);
    std::mt19937 gen(5);
    std::normal_distribution<float> g;
    for (const auto& it : ds.items)
      f << "{\"item_id\":\"" << it.id << "\",\"vector\":[" << g(gen) << "," << g(gen) << "," << g(gen)
        << "]}\n";
  }
  SocialGraph social;
  ScorerContext ours_ctx{idx, social, {}, vec, 0, 1, false, data::Compat::usermirror};
  ScorerContext ref_ctx = ours_ctx;
  ref_ctx.compat = data::Compat::reference;
  auto ours = make_scorer("content", ours_ctx);
  auto ref = make_scorer("content", ref_ctx);
  int checked = 0, moved = 0;
  for (uint32_t gt = 0; gt < ds.items.size(); ++gt) {
    if (idx.item_iid(gt) < 0) continue;
    const auto row = static_cast<uint32_t>(idx.item_iid(gt));
    util::Rng rng = util::Rng::stream(0, "t", gt);
    std::vector<uint32_t> a, b, own;
    ref->top_k({0, gt, 0, 0}, 10, rng, a);
    ours->top_k({0, row, 0, 0}, 10, rng, b);  // our query for the item whose row is that iid
    ours->top_k({0, gt, 0, 0}, 10, rng, own);
    EXPECT_EQ(a, b) << "ground truth row " << gt;
    moved += a != own;
    ++checked;
  }
  EXPECT_GT(checked, 30);
  EXPECT_GT(moved, 10);  // without the switch the query is the ground truth's own row
}

TEST(SceneCompat, SocialCountsFriendsFutureInteractionsAndFillsWithLowestIids) {
  data::Dataset ds;
  ds.name = "LastFM";
  for (int i = 1; i <= 6; ++i) ds.items.push_back({"A" + std::to_string(i), "{}", "{}"});
  ds.users.push_back({"u", "{}", "{}"});
  ds.users.push_back({"f", "{}", "{}"});
  ds.interactions.push_back({"u", "A1", at("2010-01-01 00:00:00"), "{}"});
  ds.interactions.push_back({"u", "A2", at("2010-01-02 00:00:00"), "{}"});
  ds.interactions.push_back({"f", "A3", at("2010-01-03 00:00:00"), "{}"});
  ds.interactions.push_back({"f", "A5", at("2010-02-01 00:00:00"), "{}"});  // after the target
  ds.interactions.push_back({"f", "A5", at("2010-02-02 00:00:00"), "{}"});
  DatasetIndex idx(ds);
  SocialGraph social;
  social.friends = {{1}, {0}};
  const ScoreQuery q{0, 1, at("2010-01-05 00:00:00"), 2};
  auto list = [&](data::Compat c) {
    ScorerContext ctx{idx, social, {}, {}, 0, 1, false, c};
    auto sc = make_scorer("social", ctx);
    util::Rng rng = util::Rng::stream(0, "t", 0);
    std::vector<uint32_t> out;
    sc->top_k(q, 4, rng, out);
    return out;
  };
  EXPECT_EQ(list(data::Compat::usermirror), (std::vector<uint32_t>{2}));  // A3 only: earlier, non-zero
  // Reference: S = F·R over the iid space (A1, A2, A3, A5), every time: A5 (2), A3 (1), then zero ties.
  EXPECT_EQ(list(data::Compat::reference), (std::vector<uint32_t>{4, 2, 0, 1}));
}

data::Dataset tiny_mind() {
  data::Dataset ds;
  ds.name = "MIND";
  ds.users.push_back({"U1", "{}", R"({"history":["N1","N2"]})"});
  for (int i = 1; i <= 8; ++i)
    ds.items.push_back({"N" + std::to_string(i),
                        R"({"title":"T","category":"news","subcategory":"x","abstract":null})",
                        R"({"time":0.0})"});
  ds.interactions.push_back(
      {"U1", "N5", at("2019-11-10 10:00:00"), R"({"impression_list":["N6","N5"],"item_pos":1})"});
  return ds;
}

TEST(SceneCompat, MindTrainUsesSampledExposuresUnlessRealIsAsked) {
  auto ds = tiny_mind();
  SceneConfig cfg = train_config(data::Compat::usermirror);
  cfg.scorers = {"random"};
  EXPECT_TRUE(SceneGenerator(ds, cfg).real_impressions());
  cfg.compat = data::Compat::reference;
  EXPECT_FALSE(SceneGenerator(ds, cfg).real_impressions());  // the reference's real path crashes
  cfg.impressions = ImpressionMode::Real;
  EXPECT_TRUE(SceneGenerator(ds, cfg).real_impressions());
}

TEST(SceneCompat, ScorerSetAlwaysIncludesContent) {
  auto ds = testing::synthetic_movielens(10, 20);
  SceneConfig cfg = train_config(data::Compat::reference);
  cfg.scorers.clear();
  try {
    SceneGenerator gen(ds, cfg);
    FAIL() << "the reference's scorer set needs content vectors";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().field, "content-vectors");
  }
  const auto vec = um::testing::temp_dir("compat-scorers") / "v.jsonl";
  {
    std::ofstream f(vec);
    for (const auto& it : ds.items) f << "{\"item_id\":\"" << it.id << "\",\"vector\":[1,0.5]}\n";
  }
  cfg.content_vectors = vec;
  EXPECT_EQ(SceneGenerator(ds, cfg).scorer_names(),
            (std::vector<std::string>{"random", "collaborative", "content"}));
  cfg.compat = data::Compat::usermirror;
  cfg.content_vectors.clear();
  EXPECT_EQ(SceneGenerator(ds, cfg).scorer_names(), (std::vector<std::string>{"random", "collaborative"}));
}

}  // namespace
}  // namespace um::scene
