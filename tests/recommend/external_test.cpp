// External recommenders: file: and recbole: lists (unknown ids, history items, repeats, missing
// users, timestamps, malformed lines), http: against a local server that answers well, answers
// garbage and answers too slowly; and the RecBole export.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/shared_data.h"
#include "recommend/recommend.h"
#include "synthetic.h"
#include "util/error.h"

namespace um::recommend {
namespace {

using testing::add;
using testing::make_dataset;

Split small_split(data::Dataset& ds) {
  ds = make_dataset(3, 6);
  add(ds, "u0", "i0", 1);
  add(ds, "u1", "i1", 2);
  add(ds, "u2", "i2", 3);
  add(ds, "u0", "i3", 4);
  add(ds, "u1", "i4", 5);
  add(ds, "u2", "i5", 6);
  add(ds, "u0", "i1", 100);
  add(ds, "u1", "i0", 101);
  return make_split(ds, parse_split("leave-last:1"));
}

std::filesystem::path write(const std::string& name, const std::string& content) {
  auto p = um::testing::temp_dir("recommend-ext") / name;
  std::ofstream(p) << content;
  return p;
}

TEST(FileRecommender, DropsAndCountsAndSkips) {
  data::Dataset ds;
  Split s = small_split(ds);
  auto p = write("recs.jsonl",
                 "{\"user_id\": \"u0\", \"items\": [\"zzz\", \"i0\", \"i4\", \"i4\", \"i5\", \"i2\"]}\n"
                 "\n"
                 "{\"user_id\": \"ghost\", \"items\": [\"i1\"]}\n"
                 "{\"user_id\": \"u1\", \"items\": [\"i5\"], \"timestamp\": \"1970-01-01 00:00:10\"}\n"
                 "{\"user_id\": \"u1\", \"items\": [\"i2\", \"i3\"], \"timestamp\": 20}\n");
  auto rec = make_recommender("file:" + p.string(), s, {});
  Recommendation r = rec->recommend({.user = 0, .history = {0}, .k = 2});
  EXPECT_EQ(r.items, (std::vector<uint32_t>{4, 5}));
  EXPECT_EQ(r.unknown_items, 1);
  EXPECT_EQ(r.excluded_items, 2);  // i0 is history, the second i4 a repeat
  EXPECT_TRUE(r.skip.empty());
  // Timed lists: epoch seconds (20 -> 20 s) and a date-time string (10 s).
  const int64_t s10 = 10 * 1000000LL, s20 = 20 * 1000000LL;
  EXPECT_EQ(rec->recommend({.user = 1, .t_us = s10 - 1}).skip, "no list at or before the query time");
  EXPECT_EQ(rec->recommend({.user = 1, .t_us = s10, .k = 5}).items, (std::vector<uint32_t>{5}));
  EXPECT_EQ(rec->recommend({.user = 1, .t_us = s20 + 5, .k = 5}).items, (std::vector<uint32_t>{2, 3}));
  Recommendation missing = rec->recommend({.user = 2, .k = 5});
  EXPECT_EQ(missing.skip, "user not in file");
  EXPECT_TRUE(missing.items.empty());
  EXPECT_EQ(rec->stats().at("file: lists naming unknown users"), 1);
  // Everything dropped: an explicit skip.
  EXPECT_EQ(rec->recommend({.user = 0, .history = {0, 4, 5, 2}, .k = 3}).skip,
            "no recommendable item in the list");

  // Integer ids are read as their decimal text.
  data::Dataset num = make_dataset(0, 0);
  num.users.push_back({.id = "7"});
  num.items.push_back({.id = "42"});
  num.items.push_back({.id = "43"});
  add(num, "7", "42", 1);
  add(num, "7", "43", 2);
  Split ns = make_split(num, parse_split("leave-last:1"));
  auto ip = write("int.jsonl", "{\"user_id\": 7, \"items\": [43, 42]}\n");
  EXPECT_EQ(make_recommender("file:" + ip.string(), ns, {})->recommend({.user = 0, .k = 5}).items,
            (std::vector<uint32_t>{1, 0}));
}

TEST(FileRecommender, MalformedLinesNameFileLineField) {
  data::Dataset ds;
  Split s = small_split(ds);
  struct Case {
    std::string text;
    int64_t line;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{\"user_id\": \"u0\", \"items\": []}\n{not json\n", 2, ""},
      {"{\"items\": [\"i1\"]}\n", 1, "user_id"},
      {"{\"user_id\": 1.5, \"items\": []}\n", 1, "user_id"},
      {"{\"user_id\": \"u0\", \"items\": \"i1\"}\n", 1, "items"},
      {"{\"user_id\": \"u0\", \"items\": [\"i1\", 2.5]}\n", 1, "items"},
      {"{\"user_id\": \"u0\", \"items\": [], \"timestamp\": \"yesterday\"}\n", 1, "timestamp"},
      {"[1, 2]\n", 1, ""},
      {"{\"user_id\": \"u0\", \"items\": []}\n{\"user_id\": \"u0\", \"items\": [\"i2\"]}\n", 2, "user_id"},
      {"{\"user_id\": \"u0\", \"items\": [], \"timestamp\": 5}\n{\"user_id\": \"u0\", \"items\": [], "
       "\"timestamp\": 5}\n",
       2, "timestamp"},
  };
  for (const auto& c : cases) {
    auto p = write("bad.jsonl", c.text);
    try {
      make_recommender("file:" + p.string(), s, {});
      ADD_FAILURE() << c.text << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.where().file, p.string()) << c.text;
      EXPECT_EQ(e.where().line, c.line) << c.text << ": " << e.what();
      EXPECT_EQ(e.where().field, c.field) << c.text << ": " << e.what();
    }
  }
  EXPECT_THROW(make_recommender("file:/nonexistent/recs.jsonl", s, {}), util::Error);
}

TEST(RecboleRecommender, ReadsTopKAndRejectsBadFiles) {
  data::Dataset ds;
  Split s = small_split(ds);
  auto p = write("topk.tsv",
                 "user_id:token\titem_id_list:token_seq\n"
                 "u0\ti5 i0 nope i2\n"
                 "u1\ti3\n");
  auto rec = make_recommender("recbole:" + p.string(), s, {});
  Recommendation r = rec->recommend({.user = 0, .history = {0}, .k = 5});
  EXPECT_EQ(r.items, (std::vector<uint32_t>{5, 2}));
  EXPECT_EQ(r.unknown_items, 1);
  EXPECT_EQ(r.excluded_items, 1);
  EXPECT_EQ(rec->recommend({.user = 2}).skip, "user not in file");
  auto timed = write("timed.tsv",
                     "item_id_list:token_seq\tuser_id:token\ttimestamp:float\n"
                     "i4\tu2\t1.5\n"
                     "i3\tu2\t0.5\n");
  auto tr = make_recommender("recbole:" + timed.string(), s, {});
  EXPECT_EQ(tr->recommend({.user = 2, .t_us = 1000000, .k = 5}).items, (std::vector<uint32_t>{3}));
  EXPECT_EQ(tr->recommend({.user = 2, .t_us = 1500000, .k = 5}).items, (std::vector<uint32_t>{4}));

  struct Case {
    std::string text;
    int64_t line;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {"user\titems\nu0\ti1\n", 1, "header"},
           {"", 1, "header"},
           {"user_id:token\titem_id_list:token_seq\nu0\ti1\textra\n", 2, ""},
           {"user_id:token\titem_id_list:token_seq\n\ti1\n", 2, "user_id"},
           {"user_id:token\titem_id_list:token_seq\ttimestamp:float\nu0\ti1\tnoon\n", 2, "timestamp"}}) {
    auto bad = write("bad.tsv", c.text);
    try {
      make_recommender("recbole:" + bad.string(), s, {});
      ADD_FAILURE() << c.text << " was accepted";
    } catch (const util::Error& e) {
      EXPECT_EQ(e.where().line, c.line) << c.text << ": " << e.what();
      EXPECT_EQ(e.where().field, c.field) << c.text << ": " << e.what();
    }
  }
}

// A recommender service on 127.0.0.1: /good ranks i5, the history's first item, an unknown id,
// i4 twice and then "i<user number>"; /garbage answers non-JSON; /noitems JSON without items;
// /slow sleeps past the client's timeout.
class Service {
 public:
  Service() {
    svr_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    svr_.Post("/good", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      auto body = nlohmann::json::parse(req.body);
      std::string user = body["user_id"].get<std::string>();
      nlohmann::json items = {"i5"};
      if (!body["history"].empty()) items.push_back(body["history"][0]);
      items.push_back("unknown-item");
      items.push_back("i4");
      items.push_back("i4");
      items.push_back("i" + user.substr(1));
      EXPECT_EQ(body["k"].get<int>(), 3);
      res.set_content(nlohmann::json{{"items", items}}.dump(), "application/json");
    });
    svr_.Post("/garbage", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>oops", "text/html");
    });
    svr_.Post("/noitems", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"recommendations\": []}", "application/json");
    });
    svr_.Post("/slow", [this](const httplib::Request&, httplib::Response& res) {
      ++slow_requests;
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("{\"items\": [\"i1\"]}", "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    httplib::Client probe("127.0.0.1", port_);
    for (int i = 0; i < 200 && !probe.Get("/"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Service() {
    svr_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::atomic<int> requests{0}, slow_requests{0};

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpRecommender, GoodGarbageAndSlowAnswers) {
  auto ds = make_dataset(30, 31);
  for (int u = 0; u < 30; ++u) {
    add(ds, "u" + std::to_string(u), "i" + std::to_string(u), 1);
    add(ds, "u" + std::to_string(u), "i30", 2);
  }
  Split s = make_split(ds, parse_split("leave-last:1"));
  Service svc;
  auto good = make_recommender("http:" + svc.url("/good") + "?concurrency=4&timeout=5", s, {});
  std::vector<Query> qs;
  for (uint32_t u = 0; u < 30; ++u) qs.push_back({.user = u, .history = {u}, .k = 3});
  auto rs = good->recommend_batch(qs);
  ASSERT_EQ(rs.size(), 30u);
  for (uint32_t u = 0; u < 30; ++u) {
    // i5, history (excluded), unknown, i4, i4 (repeat), i<u> (history, excluded).
    std::vector<uint32_t> want = {5, 4};
    if (u == 5) want = {4};
    if (u == 4) want = {5};
    EXPECT_EQ(rs[u].items, want) << "user " << u;
    EXPECT_EQ(rs[u].unknown_items, 1);
    EXPECT_EQ(rs[u].excluded_items, u == 4 || u == 5 ? 4 : 3) << "user " << u;
    EXPECT_TRUE(rs[u].skip.empty()) << rs[u].skip;
  }
  EXPECT_EQ(svc.requests.load(), 30);
  EXPECT_EQ(good->recommend({.user = 7, .history = {}, .k = 3}).items, (std::vector<uint32_t>{5, 4, 7}));

  auto garbage = make_recommender("http:" + svc.url("/garbage"), s, {});
  EXPECT_EQ(garbage->recommend({.user = 1, .k = 3}).skip, "http: invalid JSON");
  auto noitems = make_recommender("http:" + svc.url("/noitems"), s, {});
  EXPECT_EQ(noitems->recommend({.user = 1, .k = 3}).skip, "http: answer without an items array");
  auto slow = make_recommender("http:" + svc.url("/slow") + "?timeout=0.3&attempts=2&backoff=0.05", s, {});
  auto slow_rs = slow->recommend_batch({{.user = 1, .k = 3}, {.user = 2, .k = 3}});
  for (const auto& r : slow_rs) {
    EXPECT_EQ(r.skip, "http: timeout after 2 attempts");
    EXPECT_TRUE(r.items.empty());
  }
  EXPECT_EQ(slow->stats().at("http: failed"), 2);
  auto refused = make_recommender("http:http://127.0.0.1:1/x?timeout=1&attempts=2&backoff=0.01", s, {});
  EXPECT_EQ(refused->recommend({.user = 1, .k = 3}).skip, "http: transport error after 2 attempts");
  auto missing = make_recommender("http:" + svc.url("/nowhere"), s, {});
  EXPECT_EQ(missing->recommend({.user = 1, .k = 3}).skip, "http: status 404 after 1 attempt");
  EXPECT_THROW(good->recommend({.user = 99}), util::Error);  // a bad query is the caller's error
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(RecboleExport, WritesAtomicFilesOfTheSplit) {
  data::Dataset ds;
  Split s = small_split(ds);
  auto dir = um::testing::temp_dir("recbole-export");
  auto files = export_recbole(ds, s, dir / "out", "toy");
  EXPECT_EQ(files.size(), 6u);
  const std::string header = "user_id:token\titem_id:token\ttimestamp:float";
  auto train = lines_of(dir / "out" / "toy.train.inter");
  ASSERT_EQ(train.size(), 1 + static_cast<size_t>(s.train_interactions));
  EXPECT_EQ(train[0], header);
  EXPECT_EQ(train[1], "u0\ti0\t0.000001");
  auto test = lines_of(dir / "out" / "toy.test.inter");
  // leave-last:1: u0's i1 (train item of u1) and u1's i0 are kept; u2's i5 has no train interaction.
  EXPECT_EQ(test, (std::vector<std::string>{header, "u0\ti1\t0.0001", "u1\ti0\t0.000101"}));
  EXPECT_EQ(lines_of(dir / "out" / "toy.valid.inter"), (std::vector<std::string>{header}));
  EXPECT_EQ(lines_of(dir / "out" / "toy.inter").size(), 1 + 5 + 2u);
  EXPECT_EQ(lines_of(dir / "out" / "toy.user"),
            (std::vector<std::string>{"user_id:token", "u0", "u1", "u2"}));
  EXPECT_EQ(lines_of(dir / "out" / "toy.item").size(), 7u);
  EXPECT_THROW(export_recbole(ds, s, dir / "out", ""), util::Error);
}

}  // namespace
}  // namespace um::recommend
