// Splits: parsing, the global-time quantile (numpy's linear percentile), ties in time, unknown ids,
// unseen test items, leave-last, and the sampling of test users.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "recommend/recommend.h"
#include "synthetic.h"
#include "util/error.h"

namespace um::recommend {
namespace {

using testing::add;
using testing::make_dataset;

TEST(Split, ParsesSpecs) {
  EXPECT_EQ(parse_split("global-time").kind, SplitSpec::Kind::GlobalTime);
  EXPECT_DOUBLE_EQ(parse_split("global-time").quantile, 0.9);
  EXPECT_DOUBLE_EQ(parse_split("global-time:0.75").quantile, 0.75);
  EXPECT_EQ(parse_split("leave-last").last, 1);
  EXPECT_EQ(parse_split("leave-last:3").last, 3);
  EXPECT_EQ(parse_split("global-time:0.75").text(), "global-time:0.75");
  EXPECT_EQ(parse_split("leave-last:3").text(), "leave-last:3");
  for (const char* bad : {"global-time:1", "global-time:0", "global-time:-0.5", "global-time:abc",
                          "global-time:", "global-time:0.5x", "leave-last:0", "leave-last:1.5",
                          "leave-last:", "random:0.9", ""}) {
    try {
      parse_split(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.where().field, "split") << bad;
    }
  }
}

TEST(Split, GlobalTimeQuantileTiesUnknownAndUnseen) {
  auto ds = make_dataset(4, 6);
  // Eleven valid timestamps 0, 10, 20, 20, 30, ..., 90 µs: numpy.quantile(q=0.9) has virtual index
  // 10 * 0.9 = 9 -> 80, so only t=90 is test.
  add(ds, "u0", "i0", 0);
  add(ds, "u0", "i3", 20);
  add(ds, "u0", "i1", 20);  // same time as i3: file order kept
  add(ds, "u0", "i2", 90);  // test, i2 is a train item of u1
  add(ds, "u1", "i2", 10);
  add(ds, "nobody", "i2", 15);  // unknown user
  add(ds, "u1", "zz", 16);      // unknown item
  add(ds, "u1", "i4", 30);
  add(ds, "u2", "i0", 40);
  add(ds, "u2", "i5", 50);
  add(ds, "u2", "i1", 60);
  add(ds, "u3", "i0", 70);
  add(ds, "u3", "i4", 80);
  Split s = make_split(ds, parse_split("global-time:0.9"));
  EXPECT_EQ(s.cutoff_us, 80);
  EXPECT_EQ(s.interactions, 11);
  EXPECT_EQ(s.unknown_ids, 2);
  EXPECT_EQ(s.train_interactions, 10);
  EXPECT_EQ(s.test_interactions, 1);
  EXPECT_EQ(s.train_items_of(0), (std::vector<uint32_t>{0, 3, 1}));
  EXPECT_EQ(s.test_users, (std::vector<uint32_t>{0}));
  EXPECT_EQ(s.first_test_us(0), 90);
  EXPECT_EQ(s.train_items, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(s.user_ids[2], "u2");
  EXPECT_EQ(s.item_ids[5], "i5");

  // q=0.5: virtual index 5 -> 40; u2's i5 (50) and i1 (60) are test, i5 has no train interaction;
  // u3 has only test interactions (70, 80).
  Split h = make_split(ds, parse_split("global-time:0.5"));
  EXPECT_EQ(h.cutoff_us, 40);
  EXPECT_EQ(h.dropped_unseen_test, 1);  // i5
  EXPECT_EQ(h.in_train[5], 0);
  EXPECT_EQ(h.test[2].size(), 1u);
  EXPECT_EQ(h.test[2][0].item, 1u);
  EXPECT_EQ(h.test_users, (std::vector<uint32_t>{0, 2}));
}

TEST(Split, QuantileInterpolatesLikeNumpy) {
  // numpy.quantile([0, 7, 100], 0.3): virtual index 0.6, t >= 0.5 so numpy computes 7 - 7 * (1 - 0.6)
  // = 4.2 -> cutoff 4; q=0.9: virtual index 1.8 -> 100 - 93 * (1 - 0.8) = 81.4 -> 81.
  auto ds = make_dataset(1, 3);
  add(ds, "u0", "i0", 0);
  add(ds, "u0", "i1", 7);
  add(ds, "u0", "i2", 100);
  EXPECT_EQ(make_split(ds, parse_split("global-time:0.3")).cutoff_us, 4);
  EXPECT_EQ(make_split(ds, parse_split("global-time:0.9")).cutoff_us, 81);
}

TEST(Split, LeaveLast) {
  auto ds = make_dataset(3, 5);
  add(ds, "u0", "i0", 5);
  add(ds, "u0", "i1", 1);
  add(ds, "u0", "i2", 5);  // tie with i0 at t=5: file order, so i2 is last
  add(ds, "u1", "i3", 1);  // a single interaction: no train under leave-last:1
  add(ds, "u2", "i1", 2);
  add(ds, "u2", "i0", 3);
  Split s = make_split(ds, parse_split("leave-last:1"));
  EXPECT_EQ(s.cutoff_us, 0);
  EXPECT_EQ(s.train_items_of(0), (std::vector<uint32_t>{1, 0}));
  EXPECT_TRUE(s.test[0].empty());  // i2 has no train interaction: dropped
  EXPECT_TRUE(s.train[1].empty());
  EXPECT_EQ(s.dropped_unseen_test, 2);  // u0's i2 and u1's i3
  ASSERT_EQ(s.test[2].size(), 1u);
  EXPECT_EQ(s.test[2][0].item, 0u);
  EXPECT_EQ(s.test_users, (std::vector<uint32_t>{2}));
  // leave-last:2: only u0 keeps a train item (i1); u2's i1 is kept but u2 has no train part.
  Split two = make_split(ds, parse_split("leave-last:2"));
  EXPECT_EQ(two.train_items_of(0), (std::vector<uint32_t>{1}));
  EXPECT_EQ(two.train_items, (std::vector<uint32_t>{1}));
  EXPECT_EQ(two.dropped_unseen_test, 4);
  ASSERT_EQ(two.test[2].size(), 1u);
  EXPECT_EQ(two.test[2][0].item, 1u);
  EXPECT_TRUE(two.test_users.empty());
}

TEST(Split, EmptyDatasetIsAnError) {
  auto ds = make_dataset(1, 1);
  add(ds, "ghost", "i0", 1);
  EXPECT_THROW(make_split(ds, parse_split("global-time")), util::Error);
}

TEST(Split, SampleTestUsers) {
  auto ds = make_dataset(40, 2);
  for (int u = 0; u < 40; ++u) {
    add(ds, "u" + std::to_string(u), "i0", 1);
    add(ds, "u" + std::to_string(u), "i1", 2);
    add(ds, "u" + std::to_string(u), "i0", 3);
  }
  Split s = make_split(ds, parse_split("leave-last:1"));
  ASSERT_EQ(s.test_users.size(), 40u);
  bool capped = true;
  EXPECT_EQ(sample_test_users(s, 0, 1, &capped), s.test_users);
  EXPECT_FALSE(capped);
  EXPECT_EQ(sample_test_users(s, 100, 1, &capped), s.test_users);
  EXPECT_TRUE(capped);
  auto a = sample_test_users(s, 10, 7, &capped);
  EXPECT_FALSE(capped);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<uint32_t>(a.begin(), a.end()).size(), 10u);
  EXPECT_EQ(a, sample_test_users(s, 10, 7));
  bool differs = false;
  for (uint64_t seed = 8; seed < 12; ++seed) differs = differs || sample_test_users(s, 10, seed) != a;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace um::recommend
