// --compat reference end to end on the real ml-1m files in ../shared/data: prepare → scenes (eval,
// train) → distil with the switch on, each output checked field by field against the rules of
// docs/method.md (§2.2 user table, §4.2–4.7 exposures, §8.1–8.7 distillation) as the reference applies
// them; and the collaborative float32-softmax fill checked against the same run without the switch.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "common/shared_data.h"
#include "data/dataset_io.h"
#include "data/prepare.h"
#include "distil/distil.h"
#include "scene/scene.h"
#include "util/atomic_file.h"
#include "util/line_reader.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> read_jsonl(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = s.find(sep, b)) != std::string::npos; b = e + sep.size())
    out.push_back(s.substr(b, e - b));
  out.push_back(s.substr(b));
  return out;
}

// Share of the scenes' negative options that are one of the `n` lowest iids (§4.1: items in order of
// first appearance in the interaction file).
double lowest_iid_share(const std::vector<json>& scenes, const std::map<std::string, size_t>& iid, size_t n) {
  size_t low = 0, all = 0;
  for (const auto& s : scenes) {
    const auto& imp = s["impression_list"];
    for (size_t k = 0; k < imp.size(); ++k) {
      if (static_cast<int>(k) == s["item_pos"].get<int>()) continue;
      ++all;
      const auto it = iid.find(imp[k].get<std::string>());  // items nobody rated have no iid
      low += it != iid.end() && it->second < n;
    }
  }
  return all ? static_cast<double>(low) / static_cast<double>(all) : 0.0;
}

TEST(CompatEndToEnd, Ml1mPrepareScenesDistil) {
  UM_REQUIRE_SHARED(raw, "data/ml-1m");
  const fs::path work = um::testing::temp_dir("compat-e2e");

  // ---- prepare (§2.2): every users.dat line, the reference's labels ----
  data::prepare({.dataset = "ml-1m", .raw_dir = raw, .work_dir = work, .compat = data::Compat::reference});
  const auto users = read_jsonl(work / data::user_file("ml-1m"));
  {
    static const std::map<std::string, std::string> ages = {
        {"1", "Under 18"}, {"18", "18-24"}, {"25", "25-34"}, {"35", "35-44"}, {"45", "45+"}};
    util::LineReader in(raw / "users.dat");
    std::string_view line;
    size_t i = 0;
    while (in.next(line)) {
      if (line.empty()) continue;
      const auto f = split(std::string(line), "::");
      ASSERT_LT(i, users.size());
      const auto& u = users[i++];
      EXPECT_EQ(u["user_id"], f[0]);
      const auto& d = u["user_description"];
      EXPECT_EQ(d["gender"], f[1] == "F" ? "female" : "male");
      EXPECT_EQ(d["age"], ages.count(f[2]) ? ages.at(f[2]) : "Unknown") << "users.dat line " << i;
      EXPECT_EQ(d["location"], "Unknown");
    }
    EXPECT_EQ(i, 6040u);
    EXPECT_EQ(users.size(), 6040u);
  }

  data::Dataset ds = data::load_dataset(work, "ml-1m");
  std::map<std::string, size_t> iid;
  std::map<std::string, std::set<std::string>> touched;
  std::map<std::string, std::vector<int64_t>> times;  // user → interaction times (µs)
  for (const auto& x : ds.interactions) {
    iid.emplace(x.item_id, iid.size());
    touched[x.user_id].insert(x.item_id);
    times[x.user_id].push_back(x.timestamp_us);
  }
  std::map<std::string, int> year;
  for (const auto& it : ds.items) {
    auto d = json::parse(it.description);
    if (d["year"].is_string()) year[it.id] = std::stoi(d["year"].get<std::string>());
  }

  // ---- content vectors (the reference always ranks with the content scorer) ----
  const fs::path vectors = work / "vectors.jsonl";
  {
    std::ofstream f(vectors);
    std::mt19937 gen(17);
    std::normal_distribution<float> g;
    for (const auto& it : ds.items) {
      f << "{\"item_id\":\"" << it.id << "\",\"vector\":[";
      for (int d = 0; d < 16; ++d) f << (d ? "," : "") << g(gen);
      f << "]}\n";
    }
  }

  // ---- scenes (§4.2–4.7) ----
  scene::ScenesOptions eval;
  eval.work = work;
  eval.dataset = "ml-1m";
  eval.split = "eval";
  eval.samples = 200;
  eval.shape = {.min_options = 5, .max_options = 5};
  eval.content_vectors = vectors;
  eval.with_impressions = true;
  eval.progress = false;
  eval.threads = 2;
  eval.compat = data::Compat::reference;
  const scene::ScenesReport er = scene::run_scenes(eval);
  EXPECT_EQ(er.scorers, (std::vector<std::string>{"random", "collaborative", "content"}));
  scene::ScenesOptions train = eval;
  train.split = "train";
  train.samples = 400;
  train.shape = {.min_options = 2, .max_options = 12};
  scene::run_scenes(train);

  const auto eval_rows = read_jsonl(work / "datasets" / "ml-1m_eval.jsonl");
  const auto train_rows = read_jsonl(work / "datasets" / "ml-1m_train.jsonl");
  ASSERT_EQ(eval_rows.size(), 200u);
  ASSERT_GT(train_rows.size(), 350u);
  std::set<std::string> eval_users;
  for (const auto& s : eval_rows) eval_users.insert(s["user_id"].get<std::string>());
  for (const auto* rows : {&eval_rows, &train_rows}) {
    const bool is_eval = rows == &eval_rows;
    for (const auto& s : *rows) {
      const std::string user = s["user_id"], item = s["item_id"];
      const int c = s["choice_cnt"], pos = s["item_pos"];
      const auto& imp = s["impression_list"];
      ASSERT_EQ(static_cast<int>(imp.size()), c);
      if (is_eval) {
        EXPECT_EQ(c, 5);
      } else {
        EXPECT_TRUE(c >= 2 && c <= 12) << c;
        EXPECT_TRUE(eval_users.count(user)) << "train scenes are restricted to the eval users";
      }
      // §4.7 / §11.1: the ground truth at U{0..n_neg−1}, never the last option.
      EXPECT_GE(pos, 0);
      EXPECT_LE(pos, c - 2) << user << " " << item;
      EXPECT_EQ(imp[static_cast<size_t>(pos)], item);
      EXPECT_EQ(s["text"]["action_list"].size(), static_cast<size_t>(c));
      std::set<std::string> seen;
      const int64_t t_us = s["timestamp"].get<int64_t>() * 1000;
      size_t up_to = 0;  // §4.2: order_id >= 3 (ties in file order): at least 3 others no later
      for (int64_t t : times.at(user)) up_to += t <= t_us;
      EXPECT_GE(up_to, 4u);
      for (int k = 0; k < c; ++k) {
        const std::string neg = imp[static_cast<size_t>(k)];
        EXPECT_TRUE(seen.insert(neg).second) << "repeated option";
        if (k == pos) continue;
        // §4.6: never an item the user ever touched; never released after the target's year.
        EXPECT_FALSE(touched.at(user).count(neg)) << neg;
        if (year.count(neg)) {
          const int64_t release = static_cast<int64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::sys_days(std::chrono::year(year.at(neg)) / 1 / 1).time_since_epoch())
                  .count());
          EXPECT_LE(release, t_us) << neg;
        }
      }
    }
  }

  // §4.3 (collaborative, float32 softmax): most collaborative candidates are the zero-probability ties
  // at the lowest iids. The same run without the switch (ranking raw scores) hardly proposes them.
  const double ref_share = lowest_iid_share(train_rows, iid, 40);
  scene::ScenesOptions ours = train;
  ours.compat = data::Compat::usermirror;
  ours.output = work / "ours_train.jsonl";
  scene::run_scenes(ours);
  const double ours_share = lowest_iid_share(read_jsonl(ours.output), iid, 40);
  EXPECT_GT(ref_share, 0.05) << "reference fill share";
  EXPECT_LT(ours_share, 0.03) << "usermirror share";
  EXPECT_GT(ref_share, 3 * ours_share);
  RecordProperty("lowest_40_iid_share_reference", std::to_string(ref_share));
  RecordProperty("lowest_40_iid_share_usermirror", std::to_string(ours_share));

  // ---- distil (§8): synthetic teacher/student probabilities over the compat train scenes ----
  fs::create_directories(work / "probs");
  std::mt19937 gen(23);
  std::uniform_real_distribution<double> u01(0, 1);
  for (const char* variant : {"strong", "weak"}) {
    std::ofstream f(work / "probs" / (std::string("ml-1m_probs_") + variant + ".jsonl"));
    for (const auto& s : train_rows) {
      const int c = s["choice_cnt"], truth = s["item_pos"];
      json line = {{"user_id", s["user_id"]}, {"item_id", s["item_id"]}};
      json choice = json::array(), texts = json::array();
      for (int j = 0; j < 4; ++j) {
        const int fav = u01(gen) < (variant[0] == 's' ? 0.6 : 0.3) ? truth : static_cast<int>(gen() % c);
        std::vector<double> w(static_cast<size_t>(c));
        double sum = 0;
        for (int k = 0; k < c; ++k)
          sum += w[static_cast<size_t>(k)] = std::exp(3 * u01(gen) + (k == fav ? 3 : 0));
        json d = json::object();
        for (int k = 0; k < c; ++k)
          d[std::string(1, static_cast<char>('A' + k))] = w[static_cast<size_t>(k)] / sum;
        choice.push_back(d);
        texts.push_back(std::string("Thought:\n") + variant + " rationale " + std::to_string(j) + "\n");
      }
      line["decision_list"] = texts;
      line["choice"] = choice;
      f << line.dump() << "\n";
    }
  }
  util::write_file_atomic(work / "system.txt", "System prompt of the compat test.\n");
  distil::DistilOptions d;
  d.work_dir = work;
  d.datasets = {"ml-1m"};
  d.select = 120;
  d.system_prompt_file = work / "system.txt";
  d.progress = false;
  d.threads = 2;
  d.compat = data::Compat::reference;
  const distil::DistilResult r = distil::run_distil(d);
  ASSERT_GT(r.pairs, 0);

  // §8.6: the reference's allocation over (dataset, choice_cnt) strata of the candidate scenes.
  const auto metrics = read_jsonl(work / "datasets" / "UserMirrorer_scene_metrics.jsonl");
  std::map<int, int64_t> stratum;  // choice_cnt → candidate scenes
  std::map<int, int64_t> selected;
  int64_t n_scenes = 0;
  for (const auto& m : metrics) {
    if (m["status"] != "candidate") continue;
    ++stratum[m["choice_cnt"].get<int>()];
    ++n_scenes;
    if (m["selected"].get<bool>()) ++selected[m["choice_cnt"].get<int>()];
  }
  const int64_t n_rows = 2 * n_scenes, t = std::min<int64_t>(120, n_rows);
  int64_t remaining = t, pairs = 0;
  for (const auto& [cnt, scenes] : stratum) {
    const auto want = static_cast<int64_t>(
        std::ceil(static_cast<double>(2 * scenes) / static_cast<double>(n_rows) * static_cast<double>(t)));
    const int64_t a = std::min({want, 2 * scenes, remaining});
    remaining -= a;
    EXPECT_EQ(selected[cnt], std::min(a, scenes)) << cnt << " options";
    pairs += std::min(a, scenes);
  }
  EXPECT_EQ(r.pairs, pairs);

  // §8.7: the pref file, field by field.
  std::map<std::pair<std::string, std::string>, json> scene_of;
  for (const auto& s : train_rows) scene_of[{s["user_id"], s["item_id"]}] = s;
  const auto pref = read_jsonl(work / "datasets" / "UserMirrorer_pref.jsonl");
  ASSERT_EQ(static_cast<int64_t>(pref.size()), r.pairs);
  const std::vector<std::string> keys = {"dataset",         "user_id",          "item_id",
                                         "timestamp",       "messages_chosen",  "messages_rejected",
                                         "behavior_chosen", "behavior_rejected"};
  for (const auto& p : pref) {
    std::vector<std::string> got;
    for (const auto& [k, v] : p.items()) got.push_back(k);
    // nlohmann::json sorts keys; the order on disk is checked on the raw line below.
    EXPECT_EQ(got.size(), keys.size());
    const auto& s = scene_of.at({p["user_id"], p["item_id"]});
    const int c = s["choice_cnt"];
    EXPECT_EQ(p["dataset"], "ml-1m");
    EXPECT_EQ(p["timestamp"], s["timestamp"]);
    const std::string truth(1, static_cast<char>('A' + s["item_pos"].get<int>()));
    EXPECT_EQ(p["behavior_chosen"], truth);
    const std::string rejected = p["behavior_rejected"];
    EXPECT_NE(rejected, truth);
    // §8.1: behaviours are sampled over max(C, 5) letters (a phantom letter past C is a miss).
    EXPECT_LT(rejected[0] - 'A', std::max(c, 5));
    const auto& mc = p["messages_chosen"];
    const auto& mr = p["messages_rejected"];
    ASSERT_EQ(mc.size(), 3u);
    ASSERT_EQ(mr.size(), 3u);
    EXPECT_EQ(mc[0]["content"], "System prompt of the compat test.\n");
    EXPECT_EQ(mc[0], mr[0]);
    EXPECT_EQ(mc[1], mr[1]);
    EXPECT_EQ(mc[2]["role"], "assistant");
    const std::string chosen_text = mc[2]["content"], rejected_text = mr[2]["content"];
    EXPECT_TRUE(chosen_text.starts_with("Thought:\nstrong rationale"))
        << chosen_text;  // §8.5: chosen is strong
    EXPECT_TRUE(chosen_text.ends_with("\nBehavior: [" + truth + "]")) << chosen_text;
    EXPECT_TRUE(rejected_text.ends_with("\nBehavior: [" + rejected + "]")) << rejected_text;
  }
  std::ifstream raw_pref(work / "datasets" / "UserMirrorer_pref.jsonl");
  std::string first;
  std::getline(raw_pref, first);
  size_t at = 0;
  for (const auto& k : keys) {
    const size_t found = first.find("\"" + k + "\":", at);
    ASSERT_NE(found, std::string::npos) << k;
    at = found;
  }
}

}  // namespace
}  // namespace um::pipeline
