#pragma once
// Evaluation metrics over per-scene option distributions (docs/method.md §10, §11 items 30–31), with
// bootstrap confidence intervals, non-LLM baselines on the same scenes, and the report writers.
//
//   std::vector<EvalScene> scenes = ...;   // truth + one distribution per repeat
//   EvalReport r = evaluate_scenes(scenes, EvalReportOptions{.seed = 0});
//   write_eval_report(r, "report.json", "report.md");
//
// Definitions (per scene, q = mean of the repeats' floor-normalised distributions, the simulator's
// predictive distribution; a scene without repeats counts as uniform, as the reference's default):
//   sampled_hit_rate   the reference's accuracy: one option drawn from each repeat's distribution
//                      (stream (seed, "evaluate/sample/<predictor>", scene index)), hit = draw == truth,
//                      averaged over repeats, then over scenes. A Monte-Carlo estimate of expected_hit_rate.
//   expected_hit_rate  q[truth]
//   argmax_accuracy    1/t if truth is among the t options tied (within 1e-12) for max q, else 0
//   nll                −ln q[truth] (nats)
//   brier              Σ_k (q_k − 1[k = truth])²
//   ece                Σ_b n_b/N |acc_b − conf_b| over `bins` equal-width bins of conf = max q, with
//                      acc = the argmax credit above; the bins are reported (reliability diagram).
// Confidence intervals: percentile bootstrap over scenes (resample b of a group draws from stream
// (seed, "evaluate/bootstrap/<predictor>/<group>", b)), default 1000 resamples, 95 %.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace um::pipeline {

struct EvalScene {
  std::string dataset;
  int truth = 0;                             // item_pos
  int choice_cnt = 0;                        // C
  std::vector<std::vector<double>> repeats;  // each: C non-negative values (floored and renormalised here)
  std::vector<std::string> option_items;     // item ids of the options, if known (item baselines)
  int64_t timestamp = 0;                     // epoch ms of the scene's interaction
};

struct Estimate {
  double value = 0;
  double lo = 0;  // bootstrap interval (equal to value when bootstrap = 0)
  double hi = 0;
};

struct ReliabilityBin {
  double lo = 0, hi = 0;  // confidence range
  int64_t count = 0;
  double confidence = 0;  // mean max q in the bin (0 if empty)
  double accuracy = 0;    // mean argmax credit in the bin (0 if empty)
};

struct EvalMetrics {
  int64_t scenes = 0;
  int64_t without_prediction = 0;  // scenes scored as uniform because they had no repeats
  Estimate sampled_hit_rate, expected_hit_rate, argmax_accuracy, nll, brier, ece;
  std::vector<ReliabilityBin> reliability;
};

struct EvalGroup {
  std::string key;  // dataset name, or the exposure length as a decimal string
  EvalMetrics metrics;
};

// One predictor (the simulator or a baseline) on every scene and per group.
struct EvalTable {
  std::string name;
  EvalMetrics overall;
  std::vector<EvalGroup> by_dataset;  // sorted by dataset name
  std::vector<EvalGroup> by_length;   // sorted by exposure length
};

// Inputs of the baselines. The uniform baseline needs nothing; each other one is included only when
// its input is given. None of them may see an eval scene's own ground truth.
struct BaselineInputs {
  // Position prior: P(item_pos = k | C) from train scenes: counts[C][k] (add-one smoothed).
  std::map<int, std::vector<int64_t>> position_counts;
  // Popularity: dataset → item id → epoch-ms times of its known interactions (any order). For a
  // scene, q_k ∝ 1 + #{interactions of option k strictly before the scene's timestamp}: the scene's
  // own ground truth and everything after it are never counted. Used for scenes whose option_items
  // are known.
  using ItemTimes = std::unordered_map<std::string, std::vector<int64_t>>;
  std::map<std::string, ItemTimes> item_times;
  // Collaborative score: per evaluated scene (same order), the collaborative scorer's score of each
  // option (collaborative_baseline.h), or empty when the scene has no collaborative evidence (the
  // user has no earlier interaction). Scenes whose option_items are unknown are left out.
  std::vector<std::vector<double>> collaborative_scores;
};

// Position counts (item_pos per choice_cnt) and ground-truth interaction times (dataset, item_id at
// timestamp) of scene files in the §3.5 format (e.g. <WORK>/datasets/<DS>_train.jsonl), accumulated
// into `into`. Throws util::Error with file/line/field on malformed lines.
void add_baseline_counts(const std::filesystem::path& scene_file, BaselineInputs& into);

struct EvalReportOptions {
  uint64_t seed = 0;
  int64_t bootstrap = 1000;
  double confidence = 0.95;
  int bins = 10;
  std::string title = "usermirror evaluation";
  std::string model_name = "simulator";
  BaselineInputs baselines;
};

// The simulator's table (name = options.model_name) plus the baselines on the same scenes.
struct EvalReport : EvalTable {
  std::string title;
  // uniform, then position prior, popularity and collaborative when their inputs are given
  std::vector<EvalTable> baselines;
};

// Throws util::Error for a scene whose truth/choice_cnt/repeat sizes are inconsistent.
EvalReport evaluate_scenes(const std::vector<EvalScene>& scenes, const EvalReportOptions& options);
// Metrics of one predictor on a set of scenes (no grouping); `group` names the bootstrap stream.
EvalMetrics evaluate_group(const std::vector<EvalScene>& scenes, const std::vector<size_t>& members,
                           const EvalReportOptions& options, const std::string& group);

// Baseline distributions for the same scenes (one repeat each).
std::vector<EvalScene> uniform_baseline(const std::vector<EvalScene>& scenes);
std::vector<EvalScene> position_baseline(const std::vector<EvalScene>& scenes,
                                         const std::map<int, std::vector<int64_t>>& position_counts);
// Scenes with known option items only.
std::vector<EvalScene> popularity_baseline(
    const std::vector<EvalScene>& scenes, const std::map<std::string, BaselineInputs::ItemTimes>& item_times);
// Scenes with known option items only; q = softmax(z) of the z-scored option scores
// z_k = (s_k − mean s) / std s (population std; uniform when all scores are equal), a scale-free
// mapping that keeps the scorer's ranking. A scene with empty scores gets no prediction (uniform,
// counted in without_prediction). scores.size() must equal scenes.size().
// exp(z_k − max z) of the z-scored scores (population std; all ones when the scores are equal);
// unnormalised. Empty for empty input.
std::vector<double> zscore_softmax_weights(const std::vector<double>& scores);
std::vector<EvalScene> collaborative_baseline(const std::vector<EvalScene>& scenes,
                                              const std::vector<std::vector<double>>& scores);

// Percentile with linear interpolation between order statistics (numpy's default), q in [0, 1].
double percentile(std::vector<double> values, double q);

// report.json (every number above) and report.md (tables: overall, per dataset, per exposure length,
// baselines side by side, reliability bins), both written atomically.
void write_eval_report(const EvalReport& report, const std::filesystem::path& json_path,
                       const std::filesystem::path& markdown_path);
std::string eval_report_markdown(const EvalReport& report);
std::string eval_report_json(const EvalReport& report);

}  // namespace um::pipeline
