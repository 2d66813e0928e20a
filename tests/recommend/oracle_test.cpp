// ml-100k from ../shared/data, prepared with the project's own reader, split global-time:0.9:
// pop, itemknn and ease top-10 lists and offline metrics against tests/oracles/recommend_oracle.py
// (numpy/scipy, written from the definitions); every built-in is thread-count independent; BPR is
// deterministic and beats random on HR@10.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "recommend/recommend.h"

namespace um::recommend {
namespace {

struct Prepared {
  std::filesystem::path work;
  data::Dataset ds;
  Split split;
};

const Prepared& ml100k(const std::filesystem::path& raw) {
  static Prepared p = [&] {
    Prepared out;
    out.work = um::testing::temp_dir("recommend-ml100k");
    data::prepare({.dataset = "ml-100k", .raw_dir = raw, .work_dir = out.work});
    out.ds = data::load_dataset(out.work, "ml-100k");
    out.split = make_split(out.ds, parse_split("global-time:0.9"));
    return out;
  }();
  return p;
}

std::vector<std::vector<uint32_t>> lists_for(const Recommender& rec, const Split& s, size_t k) {
  std::vector<Query> qs;
  for (uint32_t u : s.test_users)
    qs.push_back({.user = u, .history = s.train_items_of(u), .t_us = s.first_test_us(u), .k = k});
  std::vector<std::vector<uint32_t>> out;
  for (auto& r : rec.recommend_batch(qs)) out.push_back(std::move(r.items));
  return out;
}

std::vector<std::vector<uint32_t>> relevant(const Split& s) {
  std::vector<std::vector<uint32_t>> out;
  for (uint32_t u : s.test_users) {
    out.emplace_back();
    for (const Event& e : s.test[u]) out.back().push_back(e.item);
  }
  return out;
}

TEST(RecommendOracle, Ml100kListsAndMetricsMatchNumpy) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  const Prepared& p = ml100k(raw);
  const Split& s = p.split;
  ASSERT_GT(s.test_users.size(), 50u);
  nlohmann::json out;
  out["quantile"] = 0.9;
  out["k"] = 10;
  out["itemknn"] = {{"k", 100}, {"shrink", 10}};
  out["ease"] = {{"lambda", 500}};
  std::vector<std::string> users;
  for (uint32_t u : s.test_users) users.push_back(s.user_ids[u]);
  out["split"] = {{"cutoff_us", s.cutoff_us},
                  {"unknown_ids", s.unknown_ids},
                  {"train_interactions", s.train_interactions},
                  {"test_interactions", s.test_interactions},
                  {"dropped_unseen_test", s.dropped_unseen_test},
                  {"test_users", users}};
  const std::vector<std::pair<std::string, std::string>> recs = {
      {"pop", "pop"}, {"itemknn", "itemknn?k=100&shrink=10"}, {"ease", "ease?lambda=500"}};
  for (const auto& [key, spec] : recs) {
    auto rec = make_recommender(spec, s, {.seed = 1});
    auto lists = lists_for(*rec, s, 10);
    nlohmann::json by_user = nlohmann::json::object();
    for (size_t u = 0; u < lists.size(); ++u) {
      auto& l = by_user[users[u]] = nlohmann::json::array();
      for (uint32_t i : lists[u]) l.push_back(s.item_ids[i]);
    }
    OfflineMetrics m = offline_metrics(lists, relevant(s), 10);
    out["recommenders"][key] = {{"lists", by_user}, {"metrics", m.mean}};
  }
  auto file = p.work / "cpp_recommend.json";
  std::ofstream(file) << out.dump();
  std::string cmd = "/usr/bin/python3 " +
                    (um::testing::source_dir() / "tests/oracles/recommend_oracle.py").string() + " --work " +
                    p.work.string() + " --dataset ml-100k --cpp " + file.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string log;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) log.append(buf, n);
  int status = pclose(pipe);
  std::printf("%s", log.c_str());
  EXPECT_EQ(status, 0) << log;
}

TEST(RecommendOracle, BuiltinsIndependentOfThreadCount) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  const Split& s = ml100k(raw).split;
  for (const std::string spec :
       {"random", "pop?window=30", "itemknn?k=50&shrink=5", "ease?lambda=300", "bpr?epochs=3"}) {
    auto one = make_recommender(spec, s, {.seed = 5, .threads = 1});
    auto many = make_recommender(spec, s, {.seed = 5, .threads = 3});
    EXPECT_EQ(lists_for(*one, s, 10), lists_for(*many, s, 10)) << spec;
  }
}

TEST(RecommendOracle, BprDeterministicAndBeatsRandom) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  const Split& s = ml100k(raw).split;
  auto bpr = make_recommender("bpr", s, {.seed = 11});
  auto again = make_recommender("bpr", s, {.seed = 11});
  auto other = make_recommender("bpr", s, {.seed = 12});
  auto lists = lists_for(*bpr, s, 10);
  EXPECT_EQ(lists, lists_for(*again, s, 10));
  EXPECT_NE(lists, lists_for(*other, s, 10));
  auto rel = relevant(s);
  double hr_bpr = offline_metrics(lists, rel, 10).mean["hr@10"];
  double hr_random =
      offline_metrics(lists_for(*make_recommender("random", s, {.seed = 11}), s, 10), rel, 10).mean["hr@10"];
  std::printf("hr@10 bpr %.4f random %.4f (%zu users)\n", hr_bpr, hr_random, s.test_users.size());
  EXPECT_GT(hr_bpr, hr_random + 0.1);
}

}  // namespace
}  // namespace um::recommend
