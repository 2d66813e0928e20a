#include "distil/distil_scene.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace um::distil {

const char* variant_name(Variant v) { return v == Variant::strong ? "strong" : "weak"; }

VariantSummary summarise_variant(std::span<const LetterProbs> choice, int choice_cnt, int truth,
                                 util::Rng& rng, std::vector<DecisionStat>& out, int sample_support) {
  assert(!choice.empty());
  const auto c = static_cast<size_t>(choice_cnt);
  const int support = std::min(std::max(choice_cnt, sample_support), kMaxOptions);
  std::array<double, kMaxOptions> p{}, mean{}, padded{};
  VariantSummary s;
  s.n = static_cast<int>(choice.size());
  int hits = 0;
  for (const LetterProbs& d : choice) {
    const std::span<double> pv(p.data(), c);
    prob_vector(d, choice_cnt, pv);
    DecisionStat st;
    st.entropy = entropy_bits(pv);
    st.logloss = logloss_bits(pv, truth);
    if (support > choice_cnt) {
      const std::span<double> sv(padded.data(), static_cast<size_t>(support));
      prob_vector(d, support, sv);
      st.behavior = sample_option(sv, rng);
    } else {
      st.behavior = sample_option(pv, rng);
    }
    st.preference = st.behavior == truth;
    for (size_t k = 0; k < c; ++k) mean[k] += p[k];
    s.mean_entropy += st.entropy;
    s.mean_logloss += st.logloss;
    hits += st.preference;
    out.push_back(st);
  }
  const double n = s.n;
  for (size_t k = 0; k < c; ++k) mean[k] /= n;
  s.mean_entropy /= n;
  s.mean_logloss /= n;
  s.hit_rate = hits / n;
  s.uncertainty = entropy_bits(std::span<const double>(mean.data(), c));
  return s;
}

SceneMetrics scene_metrics(const VariantSummary& strong, const VariantSummary& weak) {
  SceneMetrics m;
  m.teacher_entropy = strong.mean_entropy;
  m.student_entropy = weak.mean_entropy;
  m.teacher_uncertainty = strong.uncertainty;
  m.student_uncertainty = weak.uncertainty;
  m.teacher_data_uncertainty = strong.uncertainty - strong.mean_entropy;
  m.student_data_uncertainty = weak.uncertainty - weak.mean_entropy;
  m.diff_all_uncertainty = m.student_uncertainty - m.teacher_uncertainty;
  m.diff_model_uncertainty = m.student_entropy - m.teacher_entropy;
  m.diff_data_uncertainty = m.diff_all_uncertainty - m.diff_model_uncertainty;
  m.teacher_logloss = strong.mean_logloss;
  m.student_logloss = weak.mean_logloss;
  m.teacher_hit = strong.hit_rate;
  m.student_hit = weak.hit_rate;
  m.diff_hit = m.student_hit - m.teacher_hit;
  return m;
}

namespace {
constexpr const char* kMetricNames[kMetricColumns] = {"teacher_entropy",
                                                      "student_entropy",
                                                      "teacher_uncertainty",
                                                      "student_uncertainty",
                                                      "teacher_data_uncertainty",
                                                      "student_data_uncertainty",
                                                      "diff_all_uncertainty",
                                                      "diff_model_uncertainty",
                                                      "diff_data_uncertainty",
                                                      "teacher_logloss",
                                                      "student_logloss",
                                                      "teacher_hit",
                                                      "student_hit",
                                                      "diff_hit"};
}  // namespace

const char* metric_column_name(MetricColumn c) { return kMetricNames[static_cast<int>(c)]; }

std::optional<MetricColumn> parse_metric_column(std::string_view name) {
  for (int i = 0; i < kMetricColumns; ++i)
    if (name == kMetricNames[i]) return static_cast<MetricColumn>(i);
  return std::nullopt;
}

double metric_value(const SceneMetrics& m, MetricColumn c) {
  switch (c) {
    case MetricColumn::teacher_entropy:
      return m.teacher_entropy;
    case MetricColumn::student_entropy:
      return m.student_entropy;
    case MetricColumn::teacher_uncertainty:
      return m.teacher_uncertainty;
    case MetricColumn::student_uncertainty:
      return m.student_uncertainty;
    case MetricColumn::teacher_data_uncertainty:
      return m.teacher_data_uncertainty;
    case MetricColumn::student_data_uncertainty:
      return m.student_data_uncertainty;
    case MetricColumn::diff_all_uncertainty:
      return m.diff_all_uncertainty;
    case MetricColumn::diff_model_uncertainty:
      return m.diff_model_uncertainty;
    case MetricColumn::diff_data_uncertainty:
      return m.diff_data_uncertainty;
    case MetricColumn::teacher_logloss:
      return m.teacher_logloss;
    case MetricColumn::student_logloss:
      return m.student_logloss;
    case MetricColumn::teacher_hit:
      return m.teacher_hit;
    case MetricColumn::student_hit:
      return m.student_hit;
    case MetricColumn::diff_hit:
      return m.diff_hit;
  }
  return 0;
}

std::optional<SamplingColumn> parse_sampling_column(std::string_view name) {
  if (name == "entropy") return SamplingColumn::entropy;
  if (name == "logloss") return SamplingColumn::logloss;
  if (name == "random") return SamplingColumn::random;
  return std::nullopt;
}

PairPick pick_pair(std::span<const DecisionStat> strong, std::span<const DecisionStat> weak,
                   SamplingColumn column, util::Rng& rng) {
  // Pool in order: strong 0..n-1, then weak decisions that missed.
  std::vector<Pick> hits, misses;
  std::vector<double> hit_key, miss_key;
  auto key = [&](const DecisionStat& d) { return column == SamplingColumn::logloss ? d.logloss : d.entropy; };
  for (size_t i = 0; i < strong.size(); ++i) {
    const Pick p{Variant::strong, static_cast<int>(i), strong[i].behavior};
    (strong[i].preference ? hits : misses).push_back(p);
    (strong[i].preference ? hit_key : miss_key).push_back(key(strong[i]));
  }
  for (size_t i = 0; i < weak.size(); ++i) {
    if (weak[i].preference) continue;
    misses.push_back({Variant::weak, static_cast<int>(i), weak[i].behavior});
    miss_key.push_back(key(weak[i]));
  }
  auto best = [&](const std::vector<Pick>& cands, const std::vector<double>& keys) -> std::optional<Pick> {
    if (cands.empty()) return std::nullopt;
    if (column == SamplingColumn::random)
      return cands[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(cands.size()) - 1))];
    size_t b = 0;
    for (size_t i = 1; i < cands.size(); ++i)
      if (keys[i] < keys[b]) b = i;
    return cands[b];
  };
  PairPick r;
  r.chosen = best(hits, hit_key);
  r.rejected = best(misses, miss_key);
  return r;
}

}  // namespace um::distil
