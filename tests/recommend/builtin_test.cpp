// Built-in recommenders on hand-made data: exclusion of the history, the tie rule, options and
// spec errors; offline metrics on a hand-computed example.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "recommend/recommend.h"
#include "synthetic.h"
#include "util/error.h"

namespace um::recommend {
namespace {

using testing::add;
using testing::make_dataset;

// u0..u3 in train; i0 twice as popular as i1/i2 (a tie), i3 once, i4 only in test, i5 never.
Split toy_split(data::Dataset& ds) {
  ds = make_dataset(4, 6);
  add(ds, "u0", "i0", 1);
  add(ds, "u0", "i2", 2);
  add(ds, "u1", "i0", 3);
  add(ds, "u1", "i1", 4);
  add(ds, "u2", "i3", 5);
  add(ds, "u2", "i1", 6);
  add(ds, "u3", "i2", 7);
  add(ds, "u3", "i0", 8);
  add(ds, "u0", "i4", 100);
  add(ds, "u1", "i3", 101);
  return make_split(ds, parse_split("global-time:0.8"));
}

TEST(Builtin, PopTiesByRowAndExcludesHistory) {
  data::Dataset ds;
  Split s = toy_split(ds);
  ASSERT_EQ(s.train_items, (std::vector<uint32_t>{0, 1, 2, 3}));
  auto pop = make_recommender("pop", s, {});
  EXPECT_EQ(pop->name(), "pop");
  EXPECT_EQ(pop->recommend({.user = 2, .history = {}, .k = 10}).items, (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(pop->recommend({.user = 2, .history = {3, 1}, .k = 2}).items, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(pop->recommend({.user = 2, .history = {0, 5}, .k = 0}).items, (std::vector<uint32_t>{}));
  auto recent = make_recommender("pop?window=0.00000003", s, {});  // 2592 µs: all train interactions
  EXPECT_EQ(recent->recommend({.user = 0, .k = 1}).items, (std::vector<uint32_t>{0}));
}

TEST(Builtin, PopWindowCountsOnlyRecentInteractions) {
  auto ds = make_dataset(3, 3);
  const int64_t day = 86400LL * 1000000;
  add(ds, "u0", "i0", 0);
  add(ds, "u1", "i0", 1);
  add(ds, "u2", "i1", 10 * day);
  add(ds, "u0", "i2", 10 * day + 5);
  add(ds, "u1", "i2", 30 * day);  // test
  add(ds, "u2", "i2", 30 * day);  // test
  Split s = make_split(ds, parse_split("global-time:0.6"));
  ASSERT_EQ(s.train_interactions, 4);
  EXPECT_EQ(make_recommender("pop", s, {})->recommend({.user = 0, .k = 3}).items,
            (std::vector<uint32_t>{0, 1, 2}));
  // Within 1 day of the latest train time (10 days + 5 µs): i1 and i2 once each, i0 not at all.
  EXPECT_EQ(make_recommender("pop?window=1", s, {})->recommend({.user = 0, .k = 3}).items,
            (std::vector<uint32_t>{1, 2, 0}));
}

TEST(Builtin, EveryBuiltinExcludesHistoryAndStaysInCandidates) {
  data::Dataset ds;
  Split s = toy_split(ds);
  for (const std::string& name : builtin_recommenders()) {
    auto rec = make_recommender(name == "bpr" ? "bpr?epochs=3&factors=4" : name, s, {.seed = 3});
    for (uint32_t u = 0; u < 4; ++u) {
      Query q{.user = u, .history = s.train_items_of(u), .k = 10};
      q.history.push_back(5);  // a non-train item in the history (the session protocol's case)
      auto r = rec->recommend(q);
      std::set<uint32_t> seen;
      for (uint32_t i : r.items) {
        EXPECT_TRUE(s.in_train[i]) << name;
        EXPECT_EQ(std::count(q.history.begin(), q.history.end(), i), 0)
            << name << " recommended history item " << i;
        EXPECT_TRUE(seen.insert(i).second) << name;
      }
      const auto train = s.train_items_of(u);
      EXPECT_EQ(r.items.size(), 4 - std::set<uint32_t>(train.begin(), train.end()).size()) << name;
      EXPECT_TRUE(r.skip.empty());
    }
    EXPECT_THROW(rec->recommend({.user = 99}), util::Error) << name;
    EXPECT_THROW(rec->recommend({.user = 0, .history = {77}}), util::Error) << name;
  }
}

TEST(Builtin, ItemKnnHandExample) {
  // i0 and i2 share users u0, u3; i0 and i1 share u1. n(i0)=3, n(i1)=2, n(i2)=2, n(i3)=1.
  // shrink 0: sim(i2,i0) = 2/(sqrt3 sqrt2), sim(i1,i0) = 1/(sqrt3 sqrt2), sim(i1,i3) = 1/sqrt2.
  data::Dataset ds;
  Split s = toy_split(ds);
  auto knn = make_recommender("itemknn?k=1&shrink=0", s, {});
  // History {i0}: i2's nearest is i0 (2/sqrt6); i1's nearest is i3 (1/sqrt2 > 1/sqrt6), so only i2 scores.
  EXPECT_EQ(knn->recommend({.user = 2, .history = {0}, .k = 3}).items, (std::vector<uint32_t>{2, 1, 3}));
  // History {i3}: i1 has i3 as its nearest neighbour.
  EXPECT_EQ(knn->recommend({.user = 2, .history = {3}, .k = 1}).items, (std::vector<uint32_t>{1}));
  auto knn2 = make_recommender("itemknn?k=2&shrink=0", s, {});
  // With two neighbours i1 also counts i0 (1/sqrt6); i2 (2/sqrt6) stays first.
  EXPECT_EQ(knn2->recommend({.user = 2, .history = {0}, .k = 3}).items, (std::vector<uint32_t>{2, 1, 3}));
}

TEST(Builtin, RandomIsSeededPerUserAndHistorySize) {
  auto ds = make_dataset(2, 50);
  for (int i = 0; i < 50; ++i) add(ds, "u0", "i" + std::to_string(i), i);
  add(ds, "u1", "i0", 100);
  Split s = make_split(ds, parse_split("global-time:0.99"));
  auto a = make_recommender("random", s, {.seed = 1});
  auto b = make_recommender("random", s, {.seed = 1});
  auto c = make_recommender("random", s, {.seed = 2});
  Query q{.user = 1, .history = {0}, .k = 10};
  EXPECT_EQ(a->recommend(q).items, b->recommend(q).items);
  EXPECT_NE(a->recommend(q).items, c->recommend(q).items);
  Query longer = q;
  longer.history.push_back(1);
  EXPECT_NE(a->recommend(q).items, a->recommend(longer).items);
  EXPECT_EQ(a->recommend(q).items.size(), 10u);
}

TEST(Builtin, SpecErrorsNameTheField) {
  data::Dataset ds;
  Split s = toy_split(ds);
  for (const char* bad : {"nope", "pop?window=abc", "pop?window=-1", "itemknn?foo=1", "itemknn?k=0",
                          "ease?lambda=-1", "bpr?factors=0", "pop?window", "pop?window=1&window=2",
                          "file:", "http:ftp://x", "http:http://127.0.0.1:9/?bogus=1", "random?seed=1"}) {
    try {
      make_recommender(bad, s, {});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.where().field, "recommenders") << bad << ": " << e.what();
    }
  }
  EXPECT_EQ(builtin_recommenders(), (std::vector<std::string>{"random", "pop", "itemknn", "ease", "bpr"}));
}

TEST(Metrics, HandComputed) {
  // List [7, 3, 9], relevant {3, 4}, K = 3: one hit at rank 2.
  auto m = offline_metrics({{7, 3, 9}, {1, 2}, {5}}, {{3, 4}, {9}, {5, 5}}, 3);
  const double ndcg = (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(m.per_user["hr@3"][0], 1);
  EXPECT_DOUBLE_EQ(m.per_user["recall@3"][0], 0.5);
  EXPECT_DOUBLE_EQ(m.per_user["ndcg@3"][0], ndcg);
  EXPECT_DOUBLE_EQ(m.per_user["mrr@3"][0], 0.5);
  EXPECT_DOUBLE_EQ(m.per_user["precision@3"][0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.per_user["hr@3"][1], 0);
  EXPECT_DOUBLE_EQ(m.per_user["ndcg@3"][2], 1);  // duplicate relevant ids count once
  EXPECT_DOUBLE_EQ(m.mean["hr@3"], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.mean["mrr@3"], 0.5);
  EXPECT_THROW(offline_metrics({{1}}, {}, 3), util::Error);
  EXPECT_THROW(offline_metrics({{1}}, {{1}}, 0), util::Error);
}

}  // namespace
}  // namespace um::recommend
