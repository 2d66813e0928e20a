#include "arena/interleaving.h"

#include <gtest/gtest.h>

#include <set>

namespace um::arena {
namespace {

TEST(TeamDraft, PagesHoldDistinctItemsCreditedToTheTeamThatPickedThem) {
  std::vector<std::vector<uint32_t>> lists = {{1, 2, 3, 4, 5, 6}, {3, 7, 1, 8, 9, 10}};
  for (uint64_t s = 0; s < 200; ++s) {
    util::Rng rng(s);
    InterleavedPage p = team_draft(lists, 5, rng);
    ASSERT_EQ(p.items.size(), 5u);
    ASSERT_EQ(p.team.size(), 5u);
    std::set<uint32_t> seen(p.items.begin(), p.items.end());
    EXPECT_EQ(seen.size(), 5u);
    // Each team's picks appear in the order of its own list, and are in its list.
    for (int t = 0; t < 2; ++t) {
      size_t last = 0;
      for (size_t k = 0; k < p.items.size(); ++k) {
        if (p.team[k] != t) continue;
        auto it = std::find(lists[t].begin(), lists[t].end(), p.items[k]);
        ASSERT_NE(it, lists[t].end());
        size_t pos = static_cast<size_t>(it - lists[t].begin());
        EXPECT_GE(pos + 1, last);
        last = pos + 1;
      }
    }
    // The first round gives each team one pick: slots 0 and 1 belong to different teams.
    EXPECT_NE(p.team[0], p.team[1]);
  }
}

TEST(TeamDraft, EachTeamPicksFirstHalfOfTheTime) {
  std::vector<std::vector<uint32_t>> lists = {{1, 2, 3}, {4, 5, 6}};
  int first_a = 0;
  const int n = 4000;
  for (int s = 0; s < n; ++s) {
    util::Rng rng(static_cast<uint64_t>(s) * 7919);
    first_a += team_draft(lists, 4, rng).team[0] == 0;
  }
  EXPECT_NEAR(first_a / static_cast<double>(n), 0.5, 0.03);
}

TEST(TeamDraft, ShortListsEndThePageEarlyAndOthersFillIn) {
  util::Rng rng(3);
  InterleavedPage p = team_draft({{1}, {2, 3, 4, 5}}, 5, rng);
  EXPECT_EQ(p.items.size(), 5u);
  int a = 0;
  for (int t : p.team) a += t == 0;
  EXPECT_EQ(a, 1);
  util::Rng rng2(4);
  EXPECT_EQ(team_draft({{1, 2}, {2, 1}}, 5, rng2).items.size(), 2u);
}

TEST(TeamDraft, MultileavingGivesEveryTeamASlotPerRound) {
  util::Rng rng(11);
  InterleavedPage p = team_draft({{1, 2}, {3, 4}, {5, 6}}, 6, rng);
  ASSERT_EQ(p.items.size(), 6u);
  std::set<int> first_round(p.team.begin(), p.team.begin() + 3);
  EXPECT_EQ(first_round.size(), 3u);
}

}  // namespace
}  // namespace um::arena
