// The collaborative-score baseline's inputs on a hand-made dataset and embedding.
#include "pipeline/collaborative_baseline.h"

#include <gtest/gtest.h>

namespace um::pipeline {
namespace {

// Users u1, u2; items a, b, c (iids in order of first appearance: a, b, c).
data::Dataset hand_dataset() {
  data::Dataset d;
  d.name = "d";
  d.users = {{.id = "u1"}, {.id = "u2"}};
  d.items = {{.id = "a"}, {.id = "b"}, {.id = "c"}};
  d.interactions = {{.user_id = "u1", .item_id = "a", .timestamp_us = 1000},
                    {.user_id = "u1", .item_id = "b", .timestamp_us = 5400},
                    {.user_id = "u2", .item_id = "c", .timestamp_us = 2000}};
  return d;
}

scene::SceneRecord scene(std::string user, std::string item, int64_t ms,
                         std::vector<std::string> options = {}) {
  scene::SceneRecord s;
  s.user_id = std::move(user);
  s.item_id = std::move(item);
  s.timestamp = ms;
  s.choice_cnt = static_cast<int>(options.size());
  s.impression_list = std::move(options);
  return s;
}

TEST(CollaborativeBaseline, OptionScoresUseOnlyEarlierHistory) {
  const data::Dataset d = hand_dataset();
  const scene::DatasetIndex index(d);
  scene::Matrix2D e;
  e.rows = 3;
  e.cols = 2;
  e.data = {1, 0, /*b*/ 0, 1, /*c*/ 1, 1};
  const std::vector<std::string> opts = {"a", "b", "c", "unknown"};
  // At 5 ms only u1's interaction with a (1 ms) is earlier: query = E[a] = (1, 0).
  EXPECT_EQ(collaborative_option_scores(index, e, scene("u1", "b", 5, opts)),
            (std::vector<double>{1, 0, 1, 0}));
  // At 6 ms b (5.4 ms) is earlier too: query = (1, 1).
  EXPECT_EQ(collaborative_option_scores(index, e, scene("u1", "c", 6, opts)),
            (std::vector<double>{1, 1, 2, 0}));
  // No earlier interaction, or an unknown user: no evidence.
  EXPECT_TRUE(collaborative_option_scores(index, e, scene("u1", "a", 1, opts)).empty());
  EXPECT_TRUE(collaborative_option_scores(index, e, scene("nobody", "a", 9, opts)).empty());
}

TEST(CollaborativeBaseline, EvalGroundTruthsAreRemovedFromTheInteractions) {
  const scene::SceneRecord target = scene("u1", "b", 5);  // u1 chose b at 5.4 ms, floored to 5 ms
  const scene::SceneRecord other_time = scene("u1", "a", 2);
  const data::Dataset kept = without_scene_targets(hand_dataset(), {&target, &other_time});
  ASSERT_EQ(kept.interactions.size(), 2u);
  EXPECT_EQ(kept.interactions[0].item_id, "a");
  EXPECT_EQ(kept.interactions[1].item_id, "c");
}

TEST(CollaborativeBaseline, ScoresAlignWithScenes) {
  const scene::SceneRecord with = scene("u1", "c", 6, {"a", "b", "c"});
  const scene::SceneRecord without_options = scene("u1", "c", 6);
  const scene::SceneRecord no_history = scene("u2", "a", 1, {"a", "c"});
  const auto scores = collaborative_scores(hand_dataset(), {&with, &without_options, &no_history}, {});
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_EQ(scores[0].size(), 3u);
  EXPECT_TRUE(scores[1].empty());
  EXPECT_TRUE(scores[2].empty());
}

}  // namespace
}  // namespace um::pipeline
