#pragma once
// Per-scene distil arithmetic (docs/method.md §8.1–8.3, §8.5): per-decision entropy, logloss, sampled
// behaviour and preference flag; per-variant summaries; the §8.3 scene metrics; and the choice of the
// chosen/rejected rationale. Pure functions over one scene; no I/O.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distil/option_probs.h"
#include "util/rng.h"

namespace um::distil {

enum class Variant : uint8_t { strong = 0, weak = 1 };  // teacher, student
const char* variant_name(Variant v);

struct DecisionStat {
  double entropy = 0;       // bits
  double logloss = 0;       // bits, −log2 p[truth]
  int behavior = 0;         // sampled option index
  bool preference = false;  // behavior == truth
};

struct VariantSummary {
  int n = 0;
  double mean_entropy = 0;  // the reference's "entropy" (expected per-rationale entropy)
  double uncertainty = 0;   // entropy of the mean distribution (total entropy)
  double mean_logloss = 0;
  double hit_rate = 0;  // mean preference
};

// Computes every decision's stats (appended to `out`) and the variant summary. Behaviours are drawn
// from `rng` in decision order, one draw per decision. Requires choice non-empty. `sample_support`:
// 0 = behaviours are sampled over exactly the C options; n > C = over n letters built like the
// probability vector (letters past C carry the 1e-10 floor unless the dict has them), as the
// reference's hard-coded 5 (kReferenceSampleSupport, §11.21): a phantom letter is a miss.
inline constexpr int kReferenceSampleSupport = 5;
VariantSummary summarise_variant(std::span<const LetterProbs> choice, int choice_cnt, int truth,
                                 util::Rng& rng, std::vector<DecisionStat>& out, int sample_support = 0);

// The §8.3 metrics (teacher = strong, student = weak), plus hit rates computed per scene.
struct SceneMetrics {
  double teacher_entropy = 0, student_entropy = 0;
  double teacher_uncertainty = 0, student_uncertainty = 0;
  double teacher_data_uncertainty = 0, student_data_uncertainty = 0;
  double diff_all_uncertainty = 0, diff_model_uncertainty = 0, diff_data_uncertainty = 0;
  double teacher_logloss = 0, student_logloss = 0;
  double teacher_hit = 0, student_hit = 0, diff_hit = 0;
};
SceneMetrics scene_metrics(const VariantSummary& strong, const VariantSummary& weak);

// Scene metric columns selectable as the filter column, by their reference names.
enum class MetricColumn {
  teacher_entropy,
  student_entropy,
  teacher_uncertainty,
  student_uncertainty,
  teacher_data_uncertainty,
  student_data_uncertainty,
  diff_all_uncertainty,
  diff_model_uncertainty,
  diff_data_uncertainty,
  teacher_logloss,
  student_logloss,
  teacher_hit,
  student_hit,
  diff_hit,
};
inline constexpr int kMetricColumns = 14;
const char* metric_column_name(MetricColumn c);
// nullopt for unknown names (and for "random", which callers handle).
std::optional<MetricColumn> parse_metric_column(std::string_view name);
double metric_value(const SceneMetrics& m, MetricColumn c);

// Per-decision column used to pick the chosen/rejected rationale (smallest wins), or random.
enum class SamplingColumn { entropy, logloss, random };
std::optional<SamplingColumn> parse_sampling_column(std::string_view name);

struct Pick {
  Variant variant = Variant::strong;
  int index = -1;  // decision index within its variant's list
  int behavior = 0;
};
struct PairPick {
  std::optional<Pick> chosen;    // a strong decision whose behaviour hit the ground truth
  std::optional<Pick> rejected;  // a strong or weak decision whose behaviour missed
};
// §8.5: pool = all strong decisions + weak decisions with preference false; per preference value the
// decision with the smallest sampling column (ties: first in pool order, strong before weak, by
// index). With SamplingColumn::random, one uniform draw from `rng` per preference value (chosen
// first) picks among the candidates; rng is unused otherwise.
PairPick pick_pair(std::span<const DecisionStat> strong, std::span<const DecisionStat> weak,
                   SamplingColumn column, util::Rng& rng);

}  // namespace um::distil
