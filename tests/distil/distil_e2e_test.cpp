// run_distil end to end on generated reference-format inputs, checked against the independent numpy
// oracle tests/oracles/distil_oracle.py (metrics of every scene, the selected pairs and their messages).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shared_data.h"
#include "distil/distil.h"
#include "distil/distil_scene.h"
#include "support/synthetic_inputs.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::distil {
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

bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") == 0; }

class DistilE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new fs::path(um::testing::temp_dir("distil_e2e"));
    SyntheticSpec a;
    a.scenes = 160;
    a.rationales = 4;
    a.rationale_chars = 120;
    a.max_options = 6;
    a.null_fraction = 0.05;
    a.partial_fraction = 0.2;
    a.seed = 11;
    write_synthetic_distil_inputs(*work_, "dsA", a);
    SyntheticSpec b = a;
    b.scenes = 90;
    b.rationales = 3;
    b.min_options = 3;
    b.max_options = 5;
    b.seed = 12;
    write_synthetic_distil_inputs(*work_, "dsB", b);
    util::write_file_atomic(*work_ / "system.txt", "You are a test system prompt.\n");
  }
  static void TearDownTestSuite() { delete work_; }

  void check_against_oracle(DistilOptions o, const std::string& extra_args) {
    if (!have_numpy()) {
      if (um::testing::in_ci()) FAIL() << "/usr/bin/python3 with numpy is required under CI";
      GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
    }
    o.work_dir = *work_;
    o.datasets = {"dsB", "dsA"};
    o.system_prompt_file = *work_ / "system.txt";
    o.progress = false;
    o.threads = 2;
    const DistilResult r = run_distil(o);
    const fs::path expected = *work_ / (o.name + "_oracle.json");
    std::ostringstream cmd;
    cmd << "/usr/bin/python3 " << (um::testing::source_dir() / "tests/oracles/distil_oracle.py") << " --work "
        << *work_ << " --datasets dsB,dsA --select " << o.select << " --filter-column " << o.filter_column
        << " --sampling-column " << o.sampling_column << " --seed " << o.seed << " --allocation "
        << (o.allocation == Allocation::reference ? "reference" : "proportional")
        << (o.ascending ? " --ascending" : "") << " --out " << expected << extra_args;
    ASSERT_EQ(std::system(cmd.str().c_str()), 0) << cmd.str();
    std::ifstream in(expected);
    const json want = json::parse(in);

    // Every scene with decisions in both variants, with every §8.3 metric.
    const auto metrics = read_jsonl(r.metrics_file);
    ASSERT_EQ(metrics.size(), want["metrics"].size());
    for (size_t i = 0; i < metrics.size(); ++i) {
      const json& got = metrics[i];
      const json& exp = want["metrics"][i];
      ASSERT_EQ(got["dataset"], exp["dataset"]) << i;
      ASSERT_EQ(got["cid"], exp["cid"]) << i;
      EXPECT_EQ(got["status"], exp["status"]) << got;
      for (int c = 0; c < kMetricColumns; ++c) {
        const char* name = metric_column_name(static_cast<MetricColumn>(c));
        EXPECT_NEAR(got[name].get<double>(), exp[name].get<double>(), 1e-9) << name << " " << got;
      }
    }

    // The selected pairs, in (dataset order, cid) order, with their messages.
    const auto pref = read_jsonl(r.pref_file);
    const auto sft = read_jsonl(r.sft_file);
    const json& pairs = want["pairs"];
    ASSERT_EQ(pref.size(), pairs.size());
    ASSERT_EQ(sft.size(), pairs.size());
    EXPECT_EQ(r.pairs, static_cast<int64_t>(pairs.size()));
    for (size_t i = 0; i < pref.size(); ++i) {
      const json& p = pref[i];
      const json& e = pairs[i];
      std::vector<std::string> keys;
      for (const auto& [k, v] : p.items()) keys.push_back(k);
      // nlohmann sorts keys; the field set must be exactly the reference's.
      EXPECT_EQ(keys,
                (std::vector<std::string>{"behavior_chosen", "behavior_rejected", "dataset", "item_id",
                                          "messages_chosen", "messages_rejected", "timestamp", "user_id"}));
      EXPECT_EQ(p["dataset"], e["dataset"]);
      EXPECT_EQ(p["user_id"], e["user_id"]);
      EXPECT_EQ(p["item_id"], e["item_id"]);
      EXPECT_EQ(p["timestamp"], e["timestamp"]);
      EXPECT_EQ(p["behavior_chosen"], e["behavior_chosen"]) << e["cid"];
      EXPECT_EQ(p["behavior_rejected"], e["behavior_rejected"]) << e["cid"];
      for (const char* side : {"messages_chosen", "messages_rejected"}) {
        ASSERT_EQ(p[side].size(), 3u);
        EXPECT_EQ(p[side][0]["role"], "system");
        EXPECT_EQ(p[side][0]["content"], "You are a test system prompt.\n");
        EXPECT_EQ(p[side][1]["role"], "user");
        EXPECT_EQ(p[side][1]["content"], e["user"]);
        EXPECT_EQ(p[side][2]["role"], "assistant");
      }
      EXPECT_EQ(p["messages_chosen"][2]["content"], e["assistant_chosen"]) << e["cid"];
      EXPECT_EQ(p["messages_rejected"][2]["content"], e["assistant_rejected"]) << e["cid"];
      EXPECT_EQ(sft[i]["messages"], p["messages_chosen"]);
    }
    // Group allocation.
    ASSERT_EQ(r.groups.size(), want["groups"].size());
    for (size_t g = 0; g < r.groups.size(); ++g) {
      EXPECT_EQ(r.groups[g].dataset, want["groups"][g][0]);
      EXPECT_EQ(r.groups[g].choice_cnt, want["groups"][g][1]);
      EXPECT_EQ(r.groups[g].scenes, want["groups"][g][2]);
      EXPECT_EQ(r.groups[g].taken, want["groups"][g][3]);
    }
    last_ = r;
  }
  static fs::path* work_;
  DistilResult last_;
};
fs::path* DistilE2e::work_ = nullptr;

TEST_F(DistilE2e, DefaultsMatchOracle) {
  DistilOptions o;
  o.name = "def";
  o.select = 70;
  check_against_oracle(o, "");
  EXPECT_EQ(last_.pairs, 70);
  EXPECT_GT(last_.dropped["no_decisions"], 0);
}

TEST_F(DistilE2e, ReferenceAllocationAscendingOtherColumnMatchesOracle) {
  DistilOptions o;
  o.name = "ref";
  o.select = 85;
  o.seed = 3;
  o.allocation = Allocation::reference;
  o.ascending = true;
  o.filter_column = "diff_all_uncertainty";
  o.sampling_column = "logloss";
  check_against_oracle(o, "");
}

TEST_F(DistilE2e, RandomAblationsMatchOracle) {
  DistilOptions o;
  o.name = "rnd";
  o.select = 40;
  o.seed = 9;
  o.filter_column = "random";
  o.sampling_column = "random";
  check_against_oracle(o, "");
}

TEST_F(DistilE2e, SelectMoreThanAvailableTakesEveryCandidate) {
  DistilOptions o;
  o.name = "all";
  o.select = 100000;
  o.filter_column = "student_entropy";
  check_against_oracle(o, "");
  EXPECT_EQ(last_.pairs, last_.candidates);
}

TEST_F(DistilE2e, ThreadCountDoesNotChangeOutputs) {
  DistilOptions o;
  o.work_dir = *work_;
  o.datasets = {"dsA"};
  o.system_prompt_file = *work_ / "system.txt";
  o.progress = false;
  o.select = 50;
  o.name = "t1";
  o.threads = 1;
  const auto r1 = run_distil(o);
  o.name = "t2";
  o.threads = 2;
  const auto r2 = run_distil(o);
  EXPECT_EQ(read_jsonl(r1.pref_file), read_jsonl(r2.pref_file));
  EXPECT_EQ(read_jsonl(r1.metrics_file), read_jsonl(r2.metrics_file));
}

TEST_F(DistilE2e, MisalignedProbsFileIsAnErrorWithLocation) {
  const fs::path w = um::testing::temp_dir("distil_bad");
  SyntheticSpec s;
  s.scenes = 5;
  s.rationales = 2;
  s.rationale_chars = 20;
  write_synthetic_distil_inputs(w, "x", s);
  // Drop the last line of the weak probs file.
  const fs::path weak = w / "probs" / "x_probs_weak.jsonl";
  std::ifstream in(weak);
  std::string all((std::istreambuf_iterator<char>(in)), {}), kept;
  in.close();
  kept = all.substr(0, all.rfind('\n', all.size() - 2) + 1);
  util::write_file_atomic(weak, kept);
  util::write_file_atomic(w / "sys.txt", "s\n");
  DistilOptions o;
  o.work_dir = w;
  o.datasets = {"x"};
  o.system_prompt_file = w / "sys.txt";
  o.progress = false;
  try {
    run_distil(o);
    FAIL() << "expected an error";
  } catch (const util::Error& e) {
    EXPECT_NE(e.where().file.find("x_probs_weak.jsonl"), std::string::npos) << e.what();
    EXPECT_EQ(e.where().line, 5);
  }
  o.filter_column = "nope";
  EXPECT_THROW(run_distil(o), util::Error);
}

}  // namespace
}  // namespace um::distil
