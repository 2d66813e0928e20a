// Each stage of `usermirror run` on its own (pipeline/run_stages.h): run on a tiny work folder (the
// bundled demo data, 4 eval and 6 train scenes, a deterministic fake LLM for teacher, student,
// predictor and simulator, test hooks for train and arena), it writes outputs its manifest records as
// complete, a second run skips it, and its fingerprint changes with one of its own options and not
// with another stage's option.
#include "pipeline/run_stages.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/shared_data.h"
#include "pipeline/fake_llm_backend.h"
#include "pipeline/run_context.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
#include "pipeline/stage_manifest.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunHooks test_hooks() {
  RunHooks h;
  h.trained_model_dir = [](const RunConfig& c) { return c.work / "models" / "trained"; };
  // Stands in for SFT + DPO: a "model" that says what it was trained on.
  h.train = [](const RunConfig& c, const fs::path& sft, const fs::path& pref, const std::string& student) {
    fs::path dir = c.work / "models" / "trained";
    fs::create_directories(dir);
    std::ofstream(dir / "model.txt") << student << " " << slurp(sft).size() << " " << slurp(pref).size()
                                     << "\n";
    return "local:" + dir.string();
  };
  // Stands in for the arena component: a report naming the simulator it was handed.
  h.arena = [](const RunConfig& c, const std::string& protocol, const std::string& simulator,
               util::Summary&) {
    fs::path out = c.work / "arena" / protocol / "report.json";
    fs::create_directories(out.parent_path());
    std::ofstream(out) << "{\"simulator\": \"" << simulator << "\", \"users\": " << c.arena.users << "}\n";
    return out;
  };
  return h;
}

RunConfig tiny_config(const fs::path& work) {
  RunConfig c;
  c.work = work;
  c.seed = 3;
  c.threads = 2;
  c.prompts_dir = um::testing::source_dir() / "prompts";
  c.datasets.push_back({.name = "ml-latest-small",
                        .raw = um::testing::source_dir() / "data/demo/ml-latest-small",
                        .eval_samples = 4,
                        .train_samples = 6});
  c.models.teacher = "fake:teacher";
  c.models.student = "fake:student";
  c.models.predictor = "fake:predictor";
  c.decide.n = 2;
  c.decide.max_tokens = 6;
  c.distil.name = "t";
  c.train.enabled = true;
  c.train.sft_steps = 1;
  c.evaluate.repeats = 2;
  c.evaluate.max_tokens = 6;
  c.arena.enabled = true;
  c.arena.dataset = "ml-latest-small";
  c.arena.users = 4;
  return c;
}

// One work folder for the whole suite; each test runs the stages before its own first (skipped when
// an earlier test ran them).
class RunStages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::register_fake_backend("fake");
    // The simulator after [train] is "local:<trained model>": the fake stands in for it too.
    testing::register_fake_backend("local");
    work_ = new fs::path(um::testing::temp_dir("run-stages") / "work");
    config_ = new RunConfig(tiny_config(*work_));
    hooks_ = new RunHooks(test_hooks());
    summary_ = new util::Summary("run-stages test");
    ctx_ = new RunContext(*config_, *hooks_, *summary_);
  }

  // The stage `id` of the suite's configuration, after every stage before it has run.
  static Stage stage_after_its_inputs(const std::string& id) {
    for (Stage& s : run_stages(*ctx_)) {
      if (s.id == id) return s;
      run_stage(*work_, s);
    }
    ADD_FAILURE() << "no stage " << id;
    return {};
  }

  // The fingerprint of stage `id` under the suite's configuration changed by `change`.
  static std::string fingerprint_with(const std::string& id, const std::function<void(RunConfig&)>& change) {
    RunConfig c = *config_;
    change(c);
    util::Summary summary("fingerprint");
    RunContext ctx(c, *hooks_, summary);
    for (const Stage& s : run_stages(ctx))
      if (s.id == id) return s.fingerprint().hex();
    ADD_FAILURE() << "no stage " << id;
    return {};
  }

  static fs::path* work_;
  static RunConfig* config_;
  static RunHooks* hooks_;
  static util::Summary* summary_;
  static RunContext* ctx_;
};
fs::path* RunStages::work_ = nullptr;
RunConfig* RunStages::config_ = nullptr;
RunHooks* RunStages::hooks_ = nullptr;
util::Summary* RunStages::summary_ = nullptr;
RunContext* RunStages::ctx_ = nullptr;

struct StageCase {
  std::string id;
  std::function<void(RunConfig&)> own_option;    // must change the stage's fingerprint
  std::function<void(RunConfig&)> other_option;  // another stage's option: must not
};

void PrintTo(const StageCase& c, std::ostream* os) { *os << c.id; }

class EachStage : public RunStages, public ::testing::WithParamInterface<StageCase> {};

TEST_P(EachStage, RunsRecordsItsOutputsAndIsSkippedWhenComplete) {
  const StageCase& k = GetParam();
  Stage s = stage_after_its_inputs(k.id);
  ASSERT_EQ(s.id, k.id);
  for (const auto& in : s.inputs()) EXPECT_TRUE(fs::exists(in)) << k.id << " input " << in;
  // Forget an earlier test's run of this stage: it must run now.
  fs::remove(StageManifest(*work_, s.id).file());
  EXPECT_TRUE(run_stage(*work_, s));
  ASSERT_FALSE(s.outputs.empty());
  for (const auto& out : s.outputs) {
    ASSERT_TRUE(fs::exists(out)) << k.id << " output " << out;
    if (!fs::is_directory(out)) {
      EXPECT_GT(fs::file_size(out), 0u) << out;
    }
  }
  std::vector<std::string> before;
  for (const auto& out : s.outputs) before.push_back(util::hex64(hash_path(out)));
  EXPECT_TRUE(StageManifest(*work_, s.id).complete(s.fingerprint().hex()));
  EXPECT_FALSE(run_stage(*work_, s)) << k.id << " ran again with complete outputs";

  // A damaged output reruns the stage, which writes the same bytes again.
  if (!fs::is_directory(s.outputs[0])) {
    std::ofstream(s.outputs[0], std::ios::app) << "damage\n";
    EXPECT_TRUE(run_stage(*work_, s));
    for (size_t i = 0; i < s.outputs.size(); ++i)
      EXPECT_EQ(util::hex64(hash_path(s.outputs[i])), before[i]) << s.outputs[i];
  }
}

TEST_P(EachStage, FingerprintFollowsItsOwnOptionsOnly) {
  const StageCase& k = GetParam();
  Stage s = stage_after_its_inputs(k.id);
  const std::string fp = s.fingerprint().hex();
  EXPECT_EQ(fingerprint_with(k.id, [](RunConfig&) {}), fp);
  EXPECT_NE(fingerprint_with(k.id, k.own_option), fp);
  EXPECT_EQ(fingerprint_with(k.id, k.other_option), fp);
}

const std::string kDs = "ml-latest-small";

INSTANTIATE_TEST_SUITE_P(
    RunStages, EachStage,
    ::testing::Values(
        StageCase{"prepare/" + kDs,
                  [](RunConfig& c) {
                    c.compat = data::Compat::reference;
                    c.length_tokenizer = "unused";
                  },
                  [](RunConfig& c) { c.datasets[0].eval_samples = 5; }},
        StageCase{"scenes/" + kDs + "/eval", [](RunConfig& c) { c.datasets[0].eval_samples = 5; },
                  [](RunConfig& c) { c.datasets[0].train_samples = 7; }},
        StageCase{"scenes/" + kDs + "/train", [](RunConfig& c) { c.datasets[0].train_max_exposure = 9; },
                  [](RunConfig& c) { c.datasets[0].eval_max_exposure = 6; }},
        StageCase{"decide/" + kDs + "/strong", [](RunConfig& c) { c.models.teacher = "fake:teacher2"; },
                  [](RunConfig& c) { c.models.student = "fake:student2"; }},
        StageCase{"score/" + kDs + "/strong", [](RunConfig& c) { c.models.predictor = "fake:predictor2"; },
                  [](RunConfig& c) { c.decide.temperature = 0.5; }},
        StageCase{"decide/" + kDs + "/weak", [](RunConfig& c) { c.decide.top_p = 0.5; },
                  [](RunConfig& c) { c.models.teacher = "fake:teacher2"; }},
        StageCase{"score/" + kDs + "/weak", [](RunConfig& c) { c.system_prompt = "direct-v1"; },
                  [](RunConfig& c) { c.models.student = "fake:student2"; }},
        StageCase{"distil", [](RunConfig& c) { c.distil.select = 3; },
                  [](RunConfig& c) { c.evaluate.repeats = 3; }},
        StageCase{"train", [](RunConfig& c) { c.train.dpo_steps = 2; },
                  [](RunConfig& c) { c.distil.select = 3; }},
        StageCase{"evaluate/direct", [](RunConfig& c) { c.direct_prompt = "reasoning-v1"; },
                  [](RunConfig& c) { c.system_prompt = "direct-v1"; }},
        StageCase{"evaluate/reasoning", [](RunConfig& c) { c.evaluate.repeats = 3; },
                  [](RunConfig& c) { c.direct_prompt = "reasoning-v1"; }},
        StageCase{"arena/interleave", [](RunConfig& c) { c.arena.users = 5; },
                  [](RunConfig& c) { c.evaluate.repeats = 3; }}),
    [](const ::testing::TestParamInfo<StageCase>& i) {
      std::string n = i.param.id;
      for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

// The simulator evaluate and the arena run is the trained model when [train] is enabled.
TEST_F(RunStages, TrainedModelIsTheSimulator) {
  Stage s = stage_after_its_inputs("arena/interleave");
  run_stage(*work_, s);
  EXPECT_NE(
      slurp(*work_ / "arena/interleave/report.json").find("local:" + (*work_ / "models/trained").string()),
      std::string::npos);
  EXPECT_NE(slurp(*work_ / "models/trained/model.txt").find("fake:student"), std::string::npos);
}

// The list follows the configuration: train, evaluate and arena only when enabled.
TEST(RunStageList, FollowsTheConfiguration) {
  testing::register_fake_backend("fake");
  RunConfig c = tiny_config(um::testing::temp_dir("run-stage-list") / "work");
  c.train.enabled = false;
  c.arena.enabled = false;
  c.evaluate.modes = {"direct"};
  RunHooks hooks;
  util::Summary summary("list");
  RunContext ctx(c, hooks, summary);
  std::vector<std::string> ids;
  for (const Stage& s : run_stages(ctx)) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"prepare/" + kDs, "scenes/" + kDs + "/eval",
                                           "scenes/" + kDs + "/train", "decide/" + kDs + "/strong",
                                           "score/" + kDs + "/strong", "decide/" + kDs + "/weak",
                                           "score/" + kDs + "/weak", "distil", "evaluate/direct"}));
  EXPECT_EQ(ctx.simulator, "fake:student");
  // Enabling a stage whose hook this build lacks fails before any stage runs.
  c.train.enabled = true;
  EXPECT_THROW({ RunContext without_train_hook(c, hooks, summary); }, util::Error);
}

// A stage's fingerprint is the bytes Fingerprint::add/add_file hash, in the order the keys were
// added: existing work folders' manifests stay valid.
TEST(StageFingerprint, HashesParametersAndFilesInOrder) {
  fs::path dir = um::testing::temp_dir("stage-fingerprint");
  std::ofstream(dir / "in.txt") << "input\n";
  Stage s{.id = "x"};
  s.param("name", "demo").param("n", int64_t{4}).param("t", 0.9).input("in", dir / "in.txt");
  Fingerprint fp;
  fp.add("name", "demo").add("n", int64_t{4}).add("t", 0.9).add_file("in", dir / "in.txt");
  EXPECT_EQ(s.fingerprint().hex(), fp.hex());
  EXPECT_EQ(s.inputs(), std::vector<fs::path>{dir / "in.txt"});

  Stage reordered{.id = "x"};
  reordered.param("n", int64_t{4}).param("name", "demo").param("t", 0.9).input("in", dir / "in.txt");
  EXPECT_NE(reordered.fingerprint().hex(), fp.hex());

  std::ofstream(dir / "in.txt", std::ios::app) << "changed\n";
  EXPECT_NE(s.fingerprint().hex(), fp.hex());
  fs::remove(dir / "in.txt");
  EXPECT_THROW(s.fingerprint(), util::Error);
}

// A changed fingerprint discards the partial state of the earlier attempt (reset) before running.
TEST(RunStage, ResetsOnlyWhenAnEarlierAttemptHadAnotherFingerprint) {
  fs::path work = um::testing::temp_dir("run-stage-reset");
  int runs = 0, resets = 0;
  auto make = [&](int64_t n) {
    Stage s{.id = "demo/stage", .outputs = {work / "out.txt"}};
    s.param("n", n);
    s.run = [&runs, &work, n] {
      ++runs;
      std::ofstream(work / "out.txt") << n << "\n";
    };
    s.reset = [&resets] { ++resets; };
    return s;
  };
  EXPECT_TRUE(run_stage(work, make(1)));
  EXPECT_FALSE(run_stage(work, make(1)));
  EXPECT_EQ(resets, 0);
  EXPECT_TRUE(run_stage(work, make(2)));
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(fs::exists(work / ".stages" / "demo.stage.json"));
}

}  // namespace
}  // namespace um::pipeline
