#include "pipeline/evaluate_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/line_reader.h"

namespace um::pipeline {
namespace {

std::vector<EvalScene> hand_scenes() {
  return {
      {.dataset = "b", .truth = 0, .choice_cnt = 2, .repeats = {{0.75, 0.25}}},
      // Two repeats average to uniform over 4: a 4-way argmax tie.
      {.dataset = "a", .truth = 2, .choice_cnt = 4, .repeats = {{0.1, 0.2, 0.3, 0.4}, {0.4, 0.3, 0.2, 0.1}}},
      // No prediction: scored as uniform over 5.
      {.dataset = "a", .truth = 1, .choice_cnt = 5, .repeats = {}},
  };
}

TEST(EvaluateReport, HandComputedMetrics) {
  EvalReportOptions o;
  o.bootstrap = 0;
  const EvalReport r = evaluate_scenes(hand_scenes(), o);
  const EvalMetrics& m = r.overall;
  EXPECT_EQ(m.scenes, 3);
  EXPECT_EQ(m.without_prediction, 1);
  EXPECT_NEAR(m.expected_hit_rate.value, (0.75 + 0.25 + 0.2) / 3, 1e-12);
  EXPECT_NEAR(m.argmax_accuracy.value, (1 + 0.25 + 0.2) / 3, 1e-12);
  EXPECT_NEAR(m.nll.value, (-std::log(0.75) + std::log(4.0) + std::log(5.0)) / 3, 1e-12);
  // Brier: (0.25² + 0.25²) = 0.125; 3·0.0625 + 0.75² = 0.75; 4·0.04 + 0.8² = 0.8.
  EXPECT_NEAR(m.brier.value, (0.125 + 0.75 + 0.8) / 3, 1e-12);
  // Bins of 0.1: conf 0.75 (acc 1) in bin 7; conf 0.25 (acc 0.25) and 0.2 (acc 0.2) in bin 2.
  EXPECT_NEAR(m.ece.value, 0.25 / 3, 1e-12);
  ASSERT_EQ(m.reliability.size(), 10u);
  EXPECT_EQ(m.reliability[2].count, 2);
  EXPECT_NEAR(m.reliability[2].confidence, 0.225, 1e-12);
  EXPECT_NEAR(m.reliability[2].accuracy, 0.225, 1e-12);
  EXPECT_EQ(m.reliability[7].count, 1);
  EXPECT_DOUBLE_EQ(m.reliability[7].accuracy, 1.0);
  // No bootstrap: the interval collapses to the value.
  EXPECT_EQ(m.brier.lo, m.brier.value);
  // Groups, sorted.
  ASSERT_EQ(r.by_dataset.size(), 2u);
  EXPECT_EQ(r.by_dataset[0].key, "a");
  EXPECT_EQ(r.by_dataset[0].metrics.scenes, 2);
  EXPECT_NEAR(r.by_dataset[1].metrics.expected_hit_rate.value, 0.75, 1e-12);
  ASSERT_EQ(r.by_length.size(), 3u);
  EXPECT_EQ(r.by_length[0].key, "2");
  EXPECT_EQ(r.by_length[2].key, "5");
  // The uniform baseline is always there.
  ASSERT_FALSE(r.baselines.empty());
  EXPECT_EQ(r.baselines[0].name, "uniform");
  EXPECT_NEAR(r.baselines[0].overall.expected_hit_rate.value, (0.5 + 0.25 + 0.2) / 3, 1e-12);
  EXPECT_NEAR(r.baselines[0].overall.argmax_accuracy.value, (0.5 + 0.25 + 0.2) / 3, 1e-12);
}

TEST(EvaluateReport, SampledHitRateEstimatesExpectedHitRate) {
  std::vector<EvalScene> s(4000,
                           EvalScene{.dataset = "d", .truth = 0, .choice_cnt = 2, .repeats = {{0.3, 0.7}}});
  EvalReportOptions o;
  o.bootstrap = 0;
  const EvalReport r = evaluate_scenes(s, o);
  EXPECT_NEAR(r.overall.expected_hit_rate.value, 0.3, 1e-12);
  EXPECT_NEAR(r.overall.sampled_hit_rate.value, 0.3, 0.03);
  EXPECT_DOUBLE_EQ(r.overall.argmax_accuracy.value, 0.0);
  // A certain prediction is always hit.
  s.assign(10, EvalScene{.dataset = "d", .truth = 1, .choice_cnt = 2, .repeats = {{0.0, 1.0}, {0.0, 1.0}}});
  EXPECT_DOUBLE_EQ(evaluate_scenes(s, o).overall.sampled_hit_rate.value, 1.0);
}

TEST(EvaluateReport, BootstrapIntervalsAreSeededAndBracketTheValue) {
  std::vector<EvalScene> s;
  for (int i = 0; i < 200; ++i) {
    const double p = (i % 10) / 10.0 + 0.05;
    s.push_back({.dataset = i % 2 ? "x" : "y",
                 .truth = i % 3 == 0 ? 1 : 0,
                 .choice_cnt = 2,
                 .repeats = {{p, 1 - p}}});
  }
  EvalReportOptions o;
  o.bootstrap = 300;
  const EvalReport a = evaluate_scenes(s, o);
  const EvalReport b = evaluate_scenes(s, o);
  for (const Estimate* e : {&a.overall.expected_hit_rate, &a.overall.nll, &a.overall.brier, &a.overall.ece}) {
    EXPECT_LE(e->lo, e->value);
    EXPECT_GE(e->hi, e->value);
    EXPECT_LT(e->lo, e->hi);
  }
  EXPECT_EQ(a.overall.nll.lo, b.overall.nll.lo);
  o.seed = 1;
  EXPECT_NE(evaluate_scenes(s, o).overall.nll.lo, a.overall.nll.lo);
}

TEST(EvaluateReport, PercentileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(percentile({7}, 0.3), 7.0);
}

TEST(EvaluateReport, PositionAndPopularityBaselines) {
  std::vector<EvalScene> s = {
      {.dataset = "d",
       .truth = 0,
       .choice_cnt = 3,
       .repeats = {{1, 1, 1}},
       .option_items = {"i1", "i2", "i3"},
       .timestamp = 200},
      {.dataset = "d", .truth = 2, .choice_cnt = 3, .repeats = {{1, 1, 1}}, .timestamp = 200},
  };
  const auto pos = position_baseline(s, {{3, {7, 1, 0}}});
  ASSERT_EQ(pos[0].repeats.size(), 1u);
  EXPECT_EQ(pos[0].repeats[0], (std::vector<double>{8, 2, 1}));  // add-one smoothed counts
  // i1 was chosen at 100, at 200 (this scene's own ground truth) and at 300 (later): only the
  // interaction strictly before the scene counts. The other dataset's counts are not this one's.
  const std::map<std::string, BaselineInputs::ItemTimes> times = {
      {"d", {{"i1", {300, 200, 100}}, {"i3", {150}}}}, {"other", {{"i2", {1, 2, 3}}}}};
  const auto pop = popularity_baseline(s, times);
  ASSERT_EQ(pop.size(), 1u);  // only the scene whose option items are known
  EXPECT_EQ(pop[0].repeats[0], (std::vector<double>{2, 1, 2}));
  EvalReportOptions o;
  o.bootstrap = 0;
  o.baselines.position_counts = {{3, {7, 1, 0}}};
  o.baselines.item_times = times;
  const EvalReport r = evaluate_scenes(s, o);
  ASSERT_EQ(r.baselines.size(), 3u);
  EXPECT_EQ(r.baselines[1].name, "position prior");
  EXPECT_NEAR(r.baselines[1].overall.expected_hit_rate.value, (8.0 / 11 + 1.0 / 11) / 2, 1e-12);
  EXPECT_EQ(r.baselines[2].name, "popularity");
  EXPECT_EQ(r.baselines[2].overall.scenes, 1);
  EXPECT_NEAR(r.baselines[2].overall.expected_hit_rate.value, 2.0 / 5, 1e-12);
}

TEST(EvaluateReport, CollaborativeBaselineIsSoftmaxOfZScores) {
  const std::vector<std::string> items = {"a", "b", "c"};
  std::vector<EvalScene> s = {
      {.dataset = "d", .truth = 2, .choice_cnt = 3, .option_items = items},
      {.dataset = "d", .truth = 0, .choice_cnt = 3, .option_items = items},  // no evidence
      {.dataset = "d", .truth = 1, .choice_cnt = 3, .option_items = items},  // equal scores
      {.dataset = "d", .truth = 1, .choice_cnt = 3},                         // options unknown
  };
  const std::vector<std::vector<double>> scores = {{1, 2, 3}, {}, {4, 4, 4}, {1, 2, 3}};
  const auto cf = collaborative_baseline(s, scores);
  ASSERT_EQ(cf.size(), 3u);
  // z = (s − 2) / sqrt(2/3) = (−√1.5, 0, √1.5); q ∝ exp(z − max).
  const double r = std::sqrt(1.5);
  const double sum = 1 + std::exp(-r) + std::exp(-2 * r);
  ASSERT_EQ(cf[0].repeats.size(), 1u);
  const std::vector<double> expect = {std::exp(-2 * r) / sum, std::exp(-r) / sum, 1 / sum};
  const std::vector<double>& q = cf[0].repeats[0];  // unnormalised; evaluate normalises
  const double total = q[0] + q[1] + q[2];
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(q[k] / total, expect[k], 1e-12);
  EXPECT_TRUE(cf[1].repeats.empty());
  EXPECT_EQ(cf[2].repeats[0], (std::vector<double>{1, 1, 1}));
  // The same scores on another scale give the same distribution.
  const auto scaled = collaborative_baseline(s, {{10, 20, 30}, {}, {4, 4, 4}, {}});
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(scaled[0].repeats[0][k], cf[0].repeats[0][k], 1e-12);
  EXPECT_THROW(collaborative_baseline(s, {{1, 2}, {}, {}, {}}), util::Error);
  EXPECT_THROW(collaborative_baseline(s, {{1, 2, 3}}), util::Error);

  EvalReportOptions o;
  o.bootstrap = 0;
  o.baselines.collaborative_scores = scores;
  const EvalReport rep = evaluate_scenes(s, o);
  ASSERT_EQ(rep.baselines.size(), 2u);
  EXPECT_EQ(rep.baselines[1].name, "collaborative");
  const EvalMetrics& m = rep.baselines[1].overall;
  EXPECT_EQ(m.scenes, 3);
  EXPECT_EQ(m.without_prediction, 1);
  EXPECT_NEAR(m.expected_hit_rate.value, (1 / sum + 1.0 / 3 + 1.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(m.argmax_accuracy.value, (1 + 1.0 / 3 + 1.0 / 3) / 3, 1e-12);
}

TEST(EvaluateReport, BaselineCountsFromSceneFiles) {
  const auto dir = um::testing::temp_dir("eval_counts");
  const std::string text = R"("text": {"profile": "p", "action_list": ["a", "b", "c"], "history": "h"})";
  util::write_file_atomic(
      dir / "s.jsonl",
      "{" + text +
          R"(, "user_id": 1, "item_id": 7, "timestamp": 5, "item_pos": 1, "choice_cnt": 3, "dataset": "d"})" +
          "\n{" + text +
          R"(, "user_id": 2, "item_id": "7", "timestamp": 9, "item_pos": 1, "choice_cnt": 3, "dataset": "d"})" +
          "\n{" + text +
          R"(, "user_id": 2, "item_id": 8, "timestamp": 0, "item_pos": 0, "choice_cnt": 3, "dataset": "e"})" +
          "\n");
  BaselineInputs b;
  add_baseline_counts(dir / "s.jsonl", b);
  EXPECT_EQ(b.position_counts.at(3), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(b.item_times.at("d").at("7"), (std::vector<int64_t>{5, 9}));
  EXPECT_EQ(b.item_times.at("e").at("8"), (std::vector<int64_t>{0}));
  EXPECT_EQ(b.item_times.at("d").count("8"), 0u);
  util::write_file_atomic(dir / "bad.jsonl", "{" + text + R"(, "user_id": 1})" + "\n");
  EXPECT_THROW(add_baseline_counts(dir / "bad.jsonl", b), util::Error);
}

TEST(EvaluateReport, RejectsInconsistentScenes) {
  EvalReportOptions o;
  EXPECT_THROW(evaluate_scenes({{.dataset = "d", .truth = 3, .choice_cnt = 3}}, o), util::Error);
  EXPECT_THROW(evaluate_scenes({{.dataset = "d", .truth = 0, .choice_cnt = 3, .repeats = {{0.5, 0.5}}}}, o),
               util::Error);
}

TEST(EvaluateReport, JsonAndMarkdown) {
  EvalReportOptions o;
  o.bootstrap = 20;
  o.title = "t";
  const EvalReport r = evaluate_scenes(hand_scenes(), o);
  const auto j = nlohmann::json::parse(eval_report_json(r));
  EXPECT_EQ(j["title"], "t");
  EXPECT_EQ(j["simulator"]["overall"]["scenes"], 3);
  EXPECT_NEAR(j["simulator"]["overall"]["brier"]["value"].get<double>(), (0.125 + 0.75 + 0.8) / 3, 1e-12);
  EXPECT_EQ(j["simulator"]["by_dataset"]["a"]["scenes"], 2);
  EXPECT_EQ(j["baselines"][0]["name"], "uniform");
  const std::string md = eval_report_markdown(r);
  EXPECT_NE(md.find("| simulator | 3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| uniform | 3 |"), std::string::npos);
  EXPECT_NE(md.find("| a / simulator | 2 |"), std::string::npos);
  EXPECT_NE(md.find("## Reliability"), std::string::npos);
}

TEST(EvaluateReport, PlotScriptWritesPngs) {
  if (std::system("/usr/bin/python3 -c 'import matplotlib' > /dev/null 2>&1") != 0) {
    if (um::testing::in_ci()) FAIL() << "/usr/bin/python3 with matplotlib is required under CI";
    GTEST_SKIP() << "python3-matplotlib not available";
  }
  const auto dir = um::testing::temp_dir("eval_plot");
  EvalReportOptions o;
  o.bootstrap = 20;
  write_eval_report(evaluate_scenes(hand_scenes(), o), dir / "report.json", dir / "report.md");
  const std::string cmd = "/usr/bin/python3 " +
                          (um::testing::source_dir() / "scripts/plot_eval_report.py").string() + " " +
                          (dir / "report.json").string() + " " + (dir / "fig").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const char* name : {"reliability.png", "datasets.png"}) {
    const std::string png = util::read_file(dir / "fig" / name);
    ASSERT_GT(png.size(), 1000u) << name;
    EXPECT_EQ(png.substr(1, 3), "PNG") << name;
  }
}

}  // namespace
}  // namespace um::pipeline
