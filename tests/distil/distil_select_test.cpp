#include "distil/distil_select.h"

#include <gtest/gtest.h>

namespace um::distil {
namespace {

TEST(DistilSelect, ProportionalIsLargestRemainder) {
  // quotas 2.5, 1.5, 1.0 → floors 2, 1, 1; the one leftover goes to the first largest remainder.
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 5, Allocation::proportional), (std::vector<int64_t>{3, 1, 1}));
  // quotas 1.2, 3.6, 1.2 → 1, 3, 1 + one for the 0.6 remainder.
  EXPECT_EQ(allocate_pairs({2, 6, 2}, 6, Allocation::proportional), (std::vector<int64_t>{1, 4, 1}));
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 100, Allocation::proportional), (std::vector<int64_t>{5, 3, 2}));
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 0, Allocation::proportional), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(allocate_pairs({}, 7, Allocation::proportional), (std::vector<int64_t>{}));
}

TEST(DistilSelect, ReferenceCeilsOnRowsAndStarvesLastGroups) {
  // Rows 10, 6, 4 (N = 20), T = 5: ceil(2.5) = 3, ceil(1.5) = 2, then nothing remains.
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 5, Allocation::reference), (std::vector<int64_t>{3, 2, 0}));
  // T = min(select, rows) = 20: shares 10, 6, 4 rows, capped at the groups' scene counts.
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 100, Allocation::reference), (std::vector<int64_t>{5, 3, 2}));
  // T = 8 rows: ceil(4) = 4, ceil(2.4) = 3, remaining 1 → 1 (4 + 3 + 1 = 8 rows, but only 8 pairs max).
  EXPECT_EQ(allocate_pairs({5, 3, 2}, 8, Allocation::reference), (std::vector<int64_t>{4, 3, 1}));
}

TEST(DistilSelect, RanksInsideGroupsInKeyOrder) {
  std::vector<RankedScene> s = {
      {"b", 2, 0, 0, 0.5}, {"a", 3, 0, 1, 0.9}, {"a", 2, 0, 2, 0.1},
      {"a", 2, 0, 3, 0.7}, {"a", 2, 0, 4, 0.7}, {"b", 2, 0, 5, 0.8},
  };
  std::vector<GroupAllocation> groups;
  // 6 scenes, select 3: groups (a,2)=3 → 1.5, (a,3)=1 → 0.5, (b,2)=2 → 1.0 → 1 + 0 + 1 + leftover to (a,2).
  auto sel = select_scenes(s, 3, false, Allocation::proportional, &groups);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].dataset, "a");
  EXPECT_EQ(groups[0].choice_cnt, 2);
  EXPECT_EQ(groups[0].taken, 2);
  EXPECT_EQ(groups[1].taken, 0);
  EXPECT_EQ(groups[2].taken, 1);
  // (a,2) by key descending, tie 0.7/0.7 by cid: 3 then 4; (b,2): cid 5 (0.8).
  EXPECT_EQ(sel, (std::vector<size_t>{3, 4, 5}));
  sel = select_scenes(s, 3, true, Allocation::proportional, nullptr);
  EXPECT_EQ(sel, (std::vector<size_t>{2, 3, 0}));
}

}  // namespace
}  // namespace um::distil
