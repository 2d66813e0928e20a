// Token-length filter (§3.6) with a real tokenizer from ../shared/tokenizers.
#include <gtest/gtest.h>

#include "common/shared_data.h"
#include "scene/scene.h"
#include "test_datasets.h"
#include "text/prompt_store.h"

namespace um::scene {
namespace {

TEST(LengthFilter, CountsThePromptAndDropsLongScenes) {
  UM_REQUIRE_SHARED(tok, "tokenizers/qwen3");
  std::string system = text::load_prompt("reasoning-v1");
  LengthFilter probe(tok, system, 1);
  SceneText small{
      "## User Profile\nGender: male\n", {"A - x \n", "B - y \n"}, "A movie viewed 1 day ago\nM \n"};
  SceneText big = small;
  for (int i = 0; i < 50; ++i)
    big.history += "A movie viewed 2 days ago\nAnother Movie (1995) Drama|Comedy \n";
  size_t n_small = probe.count(small), n_big = probe.count(big);
  // the system prompt alone is hundreds of tokens; 50 history entries add several hundred more
  EXPECT_GT(n_small, 300u);
  EXPECT_GT(n_big, n_small + 500);
  EXPECT_TRUE(LengthFilter(tok, system, n_small).keep(small));
  EXPECT_FALSE(LengthFilter(tok, system, n_small - 1).keep(small));

  // In build_scenes: a limit between the shortest and longest scene drops some, counted by reason.
  auto ds = testing::synthetic_movielens();
  SceneConfig cfg;
  cfg.split = "train";
  cfg.samples = 60;
  cfg.shape = {.min_options = 2, .max_options = 12};
  SceneGenerator gen(ds, cfg);
  auto targets = gen.sample_targets(nullptr);
  size_t lo = SIZE_MAX, hi = 0;
  build_scenes(gen, targets, 2, [&](const SceneOutcome& o) {
    if (!o.record) return;
    size_t n = probe.count(o.record->text);
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  });
  ASSERT_LT(lo, hi);
  LengthFilter mid(tok, system, (lo + hi) / 2);
  size_t kept = 0, dropped = 0;
  build_scenes(
      gen, targets, 2,
      [&](const SceneOutcome& o) {
        if (o.record) {
          ++kept;
          EXPECT_LE(probe.count(o.record->text), (lo + hi) / 2);
        } else if (o.skip_reason == "longer than " + std::to_string((lo + hi) / 2) + " tokens") {
          ++dropped;
        }
      },
      {}, &mid);
  EXPECT_GT(kept, 0u);
  EXPECT_GT(dropped, 0u);
}

}  // namespace
}  // namespace um::scene
