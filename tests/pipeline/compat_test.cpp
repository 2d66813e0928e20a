// --compat reference in distil, evaluate and run configs (docs/reference-differences.md): each
// behaviour the switch selects, failing without the switch; explicit options win.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "distil/distil.h"
#include "distil/distil_scene.h"
#include "pipeline/evaluate_stage.h"
#include "pipeline/run_config.h"
#include "support/synthetic_inputs.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::pipeline {
namespace {

namespace fs = std::filesystem;

// §8.1 / §11.21: the reference samples the behaviour over at least A–E, built like the probability
// vector; a dict letter past C (here C for a 2-option scene) is then a possible, wrong, behaviour.
TEST(DistilCompat, BehaviourSampledOverFiveLetters) {
  distil::LetterProbs d;
  d.set(0, 0.0);
  d.set(1, 0.0);
  d.set(2, 1.0);
  const std::vector<distil::LetterProbs> choice(20, d);
  for (int support : {0, distil::kReferenceSampleSupport}) {
    util::Rng rng(9);
    std::vector<distil::DecisionStat> st;
    const distil::VariantSummary s = distil::summarise_variant(choice, 2, 1, rng, st, support);
    for (const auto& x : st) {
      if (support == 0) {
        EXPECT_LT(x.behavior, 2);  // exactly the C options: A or B
      } else {
        EXPECT_EQ(x.behavior, 2);  // the phantom letter C: a miss
        EXPECT_FALSE(x.preference);
      }
    }
    EXPECT_DOUBLE_EQ(st[0].entropy, 1.0);  // entropies and loglosses stay over the C options
    if (support) {
      EXPECT_EQ(s.hit_rate, 0.0);
    }
  }
}

class DistilCompatRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new fs::path(um::testing::temp_dir("distil_compat"));
    distil::SyntheticSpec a;
    a.scenes = 300;
    a.rationales = 4;
    a.rationale_chars = 60;
    a.max_options = 8;
    a.seed = 21;
    distil::write_synthetic_distil_inputs(*work_, "dsA", a);
    util::write_file_atomic(*work_ / "system.txt", "Test prompt.\n");
  }
  static void TearDownTestSuite() { delete work_; }
  static distil::DistilResult run(const std::string& name, data::Compat compat,
                                  std::optional<distil::Allocation> alloc) {
    distil::DistilOptions o;
    o.work_dir = *work_;
    o.datasets = {"dsA"};
    o.name = name;
    o.select = 150;
    o.system_prompt_file = *work_ / "system.txt";
    o.progress = false;
    o.threads = 2;
    o.compat = compat;
    o.allocation = alloc;
    return distil::run_distil(o);
  }
  static std::vector<std::pair<int, int64_t>> taken(const distil::DistilResult& r) {
    std::vector<std::pair<int, int64_t>> v;
    for (const auto& g : r.groups) v.emplace_back(g.choice_cnt, g.taken);
    return v;
  }
  static fs::path* work_;
};
fs::path* DistilCompatRun::work_ = nullptr;

TEST_F(DistilCompatRun, ReferenceAllocationByDefaultExplicitWins) {
  const distil::DistilResult ours = run("ours", data::Compat::usermirror, std::nullopt);
  const distil::DistilResult ref = run("ref", data::Compat::reference, std::nullopt);
  const distil::DistilResult ref_alloc =
      run("refalloc", data::Compat::usermirror, distil::Allocation::reference);
  const distil::DistilResult ref_prop =
      run("refprop", data::Compat::reference, distil::Allocation::proportional);
  ASSERT_EQ(ours.candidates, ref.candidates);
  EXPECT_NE(taken(ours), taken(ref));  // the allocations differ on this data
  EXPECT_EQ(taken(ref), taken(ref_alloc));
  EXPECT_EQ(taken(ref_prop), taken(ours));
  EXPECT_EQ(ours.pairs, 150);  // proportional: exactly T pairs
  // The reference's arithmetic on rows (2 per scene), groups in key order with the running cap.
  int64_t n_rows = 2 * ref.candidates, remaining = std::min<int64_t>(150, n_rows);
  const int64_t t = remaining;
  for (const auto& g : ref.groups) {
    const int64_t rows = 2 * g.scenes;
    const auto want = static_cast<int64_t>(
        std::ceil(static_cast<double>(rows) / static_cast<double>(n_rows) * static_cast<double>(t)));
    const int64_t a = std::min({want, rows, remaining});
    remaining -= a;
    EXPECT_EQ(g.taken, std::min(a, g.scenes)) << g.choice_cnt << " options";
  }
}

TEST(EvaluateCompat, ContextLimitDefault) {
  EvaluateOptions o;
  EXPECT_EQ(context_limit(o), 0u);  // off by default
  o.compat = data::Compat::reference;
  EXPECT_EQ(context_limit(o), 6124u);  // the reference's max_context_length
  o.max_context = 0;                   // explicit: off
  EXPECT_EQ(context_limit(o), 0u);
  o.max_context = 8000;
  EXPECT_EQ(context_limit(o), 8000u);
}

fs::path write_config(const std::string& name, const std::string& run_table) {
  fs::path dir = um::testing::temp_dir("compat-config-" + name);
  std::ofstream(dir / "run.toml") << "[run]\nwork = \"work\"\n"
                                  << run_table << "\n[[datasets]]\nname = \"ml-1m\"\nraw = \"raw/ml-1m\"\n";
  return dir / "run.toml";
}

TEST(RunConfigCompat, ReferenceRunDefaults) {
  const RunConfig ours = load_run_config(write_config("ours", ""));
  EXPECT_EQ(ours.compat, data::Compat::usermirror);
  EXPECT_EQ(ours.system_prompt, "reasoning-v1");
  EXPECT_EQ(ours.eval_max_tokens, 0);
  const RunConfig ref = load_run_config(write_config("ref", "compat = \"reference\""));
  EXPECT_EQ(ref.compat, data::Compat::reference);
  EXPECT_EQ(ref.prompts, "authors");
  EXPECT_EQ(ref.system_prompt, "authors-default");
  EXPECT_EQ(ref.direct_prompt, "authors-direct");
  EXPECT_EQ(ref.eval_max_tokens, 6144);
  // Keys the file sets win.
  const RunConfig mixed = load_run_config(
      write_config("mixed", "compat = \"reference\"\nprompts = \"ours\"\neval_max_tokens = 0"));
  EXPECT_EQ(mixed.compat, data::Compat::reference);
  EXPECT_EQ(mixed.system_prompt, "reasoning-v1");
  EXPECT_EQ(mixed.eval_max_tokens, 0);
  const RunConfig named =
      load_run_config(write_config("named", "compat = \"reference\"\nsystem_prompt = \"mine\""));
  EXPECT_EQ(named.system_prompt, "mine");
  const fs::path bad = write_config("bad", "compat = \"authors\"");
  try {
    load_run_config(bad);
    FAIL() << "accepted compat = \"authors\"";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.where().file, bad.string());
    EXPECT_EQ(e.where().field, "run.compat");
  }
}

}  // namespace
}  // namespace um::pipeline
