#include "pipeline/evaluate_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <span>

#include "distil/option_probs.h"
#include "scene/scene_record.h"
#include "util/error.h"
#include "util/line_reader.h"
#include "util/rng.h"

namespace um::pipeline {

namespace {

constexpr double kTieTolerance = 1e-12;

struct SceneValues {
  double sampled = 0, expected = 0, argmax = 0, nll = 0, brier = 0, conf = 0;
  bool missing = false;
};

void check_scene(const EvalScene& s, size_t index) {
  const util::Location where{.record = std::to_string(index)};
  if (s.choice_cnt < 1 || s.choice_cnt > distil::kMaxOptions)
    throw util::Error("choice_cnt must be in 1.." + std::to_string(distil::kMaxOptions), where);
  if (s.truth < 0 || s.truth >= s.choice_cnt) throw util::Error("truth must be in 0..choice_cnt-1", where);
  for (const auto& r : s.repeats)
    if (r.size() != static_cast<size_t>(s.choice_cnt))
      throw util::Error("a repeat has " + std::to_string(r.size()) + " probabilities for " +
                            std::to_string(s.choice_cnt) + " options",
                        where);
}

SceneValues scene_values(const EvalScene& s, size_t index, const std::string& predictor, uint64_t seed) {
  const auto c = static_cast<size_t>(s.choice_cnt);
  const auto g = static_cast<size_t>(s.truth);
  SceneValues v;
  std::array<double, distil::kMaxOptions> q{}, p{};
  if (s.repeats.empty()) {
    v.missing = true;
    for (size_t k = 0; k < c; ++k) q[k] = 1.0 / static_cast<double>(c);
  }
  util::Rng rng = util::Rng::stream(seed, "evaluate/sample/" + predictor, index);
  int hits = 0;
  for (const auto& r : s.repeats) {
    std::copy(r.begin(), r.end(), p.begin());
    const std::span<double> pv(p.data(), c);
    distil::floor_normalise(pv);
    hits += distil::sample_option(pv, rng) == s.truth;
    for (size_t k = 0; k < c; ++k) q[k] += p[k];
  }
  if (!s.repeats.empty()) {
    const auto n = static_cast<double>(s.repeats.size());
    for (size_t k = 0; k < c; ++k) q[k] /= n;
    v.sampled = hits / n;
  } else {
    v.sampled = q[g];  // no draws: the uniform prior's expectation
  }
  const std::span<const double> qv(q.data(), c);
  // Options within kTieTolerance of the maximum tie (averaging repeats leaves rounding noise).
  v.conf = q[static_cast<size_t>(distil::arg_max(qv).index)];
  int ties = 0;
  for (size_t k = 0; k < c; ++k) ties += q[k] >= v.conf - kTieTolerance;
  v.expected = q[g];
  v.argmax = q[g] >= v.conf - kTieTolerance ? 1.0 / ties : 0.0;
  v.nll = -std::log(q[g]);
  for (size_t k = 0; k < c; ++k) {
    const double d = q[k] - (k == g ? 1.0 : 0.0);
    v.brier += d * d;
  }
  return v;
}

struct Aggregate {
  double sampled = 0, expected = 0, argmax = 0, nll = 0, brier = 0, ece = 0;
};

// Means over `idx` (indices into vals) and the ECE; fills bins when asked.
Aggregate aggregate(const std::vector<SceneValues>& vals, const std::vector<size_t>& idx, int nbins,
                    std::vector<ReliabilityBin>* bins) {
  Aggregate a;
  std::vector<double> conf(static_cast<size_t>(nbins)), acc(static_cast<size_t>(nbins));
  std::vector<int64_t> cnt(static_cast<size_t>(nbins));
  for (size_t i : idx) {
    const SceneValues& v = vals[i];
    a.sampled += v.sampled;
    a.expected += v.expected;
    a.argmax += v.argmax;
    a.nll += v.nll;
    a.brier += v.brier;
    const auto b = static_cast<size_t>(std::min(nbins - 1, static_cast<int>(v.conf * nbins)));
    conf[b] += v.conf;
    acc[b] += v.argmax;
    ++cnt[b];
  }
  const auto n = static_cast<double>(idx.size());
  if (idx.empty()) return a;
  a.sampled /= n;
  a.expected /= n;
  a.argmax /= n;
  a.nll /= n;
  a.brier /= n;
  for (size_t b = 0; b < cnt.size(); ++b)
    if (cnt[b]) a.ece += std::fabs(acc[b] - conf[b]) / n;  // n_b/N |acc_b/n_b − conf_b/n_b|
  if (bins) {
    bins->clear();
    for (size_t b = 0; b < cnt.size(); ++b) {
      ReliabilityBin r;
      r.lo = static_cast<double>(b) / nbins;
      r.hi = static_cast<double>(b + 1) / nbins;
      r.count = cnt[b];
      if (cnt[b]) {
        r.confidence = conf[b] / static_cast<double>(cnt[b]);
        r.accuracy = acc[b] / static_cast<double>(cnt[b]);
      }
      bins->push_back(r);
    }
  }
  return a;
}

EvalMetrics metrics_of(const std::vector<SceneValues>& vals, const std::vector<size_t>& members,
                       const EvalReportOptions& o, const std::string& stream_name) {
  if (o.bins < 1) throw util::Error("reliability bins must be >= 1");
  EvalMetrics m;
  m.scenes = static_cast<int64_t>(members.size());
  for (size_t i : members) m.without_prediction += vals[i].missing;
  const Aggregate a = aggregate(vals, members, o.bins, &m.reliability);
  Estimate* est[] = {&m.sampled_hit_rate, &m.expected_hit_rate, &m.argmax_accuracy, &m.nll, &m.brier, &m.ece};
  const double point[] = {a.sampled, a.expected, a.argmax, a.nll, a.brier, a.ece};
  for (size_t k = 0; k < 6; ++k) *est[k] = {point[k], point[k], point[k]};
  if (o.bootstrap <= 0 || members.empty()) return m;
  std::vector<std::vector<double>> boot(6);
  std::vector<size_t> sample(members.size());
  for (int64_t b = 0; b < o.bootstrap; ++b) {
    util::Rng rng = util::Rng::stream(o.seed, "evaluate/bootstrap/" + stream_name, static_cast<uint64_t>(b));
    for (auto& s : sample)
      s = members[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(members.size()) - 1))];
    const Aggregate r = aggregate(vals, sample, o.bins, nullptr);
    const double v[] = {r.sampled, r.expected, r.argmax, r.nll, r.brier, r.ece};
    for (size_t k = 0; k < 6; ++k) boot[k].push_back(v[k]);
  }
  const double tail = (1 - o.confidence) / 2;
  for (size_t k = 0; k < 6; ++k) {
    est[k]->lo = percentile(boot[k], tail);
    est[k]->hi = percentile(boot[k], 1 - tail);
  }
  return m;
}

std::vector<SceneValues> values_of(const std::vector<EvalScene>& scenes, const std::string& predictor,
                                   uint64_t seed) {
  std::vector<SceneValues> vals;
  vals.reserve(scenes.size());
  for (size_t i = 0; i < scenes.size(); ++i) {
    check_scene(scenes[i], i);
    vals.push_back(scene_values(scenes[i], i, predictor, seed));
  }
  return vals;
}

EvalTable table_of(const std::vector<EvalScene>& scenes, const std::string& name,
                   const EvalReportOptions& o) {
  const std::vector<SceneValues> vals = values_of(scenes, name, o.seed);
  EvalTable t;
  t.name = name;
  std::vector<size_t> all(scenes.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  t.overall = metrics_of(vals, all, o, name + "/all");
  std::map<std::string, std::vector<size_t>> by_ds;
  std::map<int, std::vector<size_t>> by_len;
  for (size_t i = 0; i < scenes.size(); ++i) {
    by_ds[scenes[i].dataset].push_back(i);
    by_len[scenes[i].choice_cnt].push_back(i);
  }
  for (const auto& [ds, idx] : by_ds)
    t.by_dataset.push_back({ds, metrics_of(vals, idx, o, name + "/dataset=" + ds)});
  for (const auto& [len, idx] : by_len)
    t.by_length.push_back(
        {std::to_string(len), metrics_of(vals, idx, o, name + "/length=" + std::to_string(len))});
  return t;
}

}  // namespace

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

EvalMetrics evaluate_group(const std::vector<EvalScene>& scenes, const std::vector<size_t>& members,
                           const EvalReportOptions& options, const std::string& group) {
  return metrics_of(values_of(scenes, options.model_name, options.seed), members, options, group);
}

std::vector<EvalScene> uniform_baseline(const std::vector<EvalScene>& scenes) {
  std::vector<EvalScene> out = scenes;
  for (auto& s : out) s.repeats.assign(1, std::vector<double>(static_cast<size_t>(s.choice_cnt), 1.0));
  return out;
}

std::vector<EvalScene> position_baseline(const std::vector<EvalScene>& scenes,
                                         const std::map<int, std::vector<int64_t>>& position_counts) {
  std::vector<EvalScene> out = scenes;
  for (auto& s : out) {
    std::vector<double> p(static_cast<size_t>(s.choice_cnt), 1.0);  // add-one smoothing
    if (auto it = position_counts.find(s.choice_cnt); it != position_counts.end())
      for (size_t k = 0; k < p.size() && k < it->second.size(); ++k)
        p[k] += static_cast<double>(it->second[k]);
    s.repeats.assign(1, std::move(p));
  }
  return out;
}

std::vector<EvalScene> popularity_baseline(
    const std::vector<EvalScene>& scenes,
    const std::map<std::string, BaselineInputs::ItemTimes>& item_times) {
  std::vector<EvalScene> out;
  const BaselineInputs::ItemTimes none;
  for (const auto& s : scenes) {
    if (s.option_items.size() != static_cast<size_t>(s.choice_cnt)) continue;
    const auto ds = item_times.find(s.dataset);
    const BaselineInputs::ItemTimes& times = ds == item_times.end() ? none : ds->second;
    EvalScene b = s;
    std::vector<double> p;
    for (const auto& id : s.option_items) {
      int64_t earlier = 0;
      if (auto it = times.find(id); it != times.end())
        earlier =
            std::count_if(it->second.begin(), it->second.end(), [&](int64_t t) { return t < s.timestamp; });
      p.push_back(1.0 + static_cast<double>(earlier));
    }
    b.repeats.assign(1, std::move(p));
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<double> zscore_softmax_weights(const std::vector<double>& sc) {
  if (sc.empty()) return {};
  const auto n = static_cast<double>(sc.size());
  double mean = 0, var = 0;
  for (double v : sc) mean += v / n;
  for (double v : sc) var += (v - mean) * (v - mean) / n;
  const double sd = std::sqrt(var);
  std::vector<double> z(sc.size(), 0.0);
  if (sd > 0)
    for (size_t k = 0; k < sc.size(); ++k) z[k] = (sc[k] - mean) / sd;
  const double top = *std::max_element(z.begin(), z.end());
  std::vector<double> q;
  q.reserve(z.size());
  for (double v : z) q.push_back(std::exp(v - top));
  return q;
}

std::vector<EvalScene> collaborative_baseline(const std::vector<EvalScene>& scenes,
                                              const std::vector<std::vector<double>>& scores) {
  if (scores.size() != scenes.size())
    throw util::Error("collaborative scores for " + std::to_string(scores.size()) + " scenes, expected " +
                      std::to_string(scenes.size()));
  std::vector<EvalScene> out;
  for (size_t i = 0; i < scenes.size(); ++i) {
    const EvalScene& s = scenes[i];
    if (s.option_items.size() != static_cast<size_t>(s.choice_cnt)) continue;
    EvalScene b = s;
    b.repeats.clear();
    const std::vector<double>& sc = scores[i];
    if (!sc.empty()) {
      if (sc.size() != static_cast<size_t>(s.choice_cnt))
        throw util::Error("collaborative scores: " + std::to_string(sc.size()) + " for " +
                              std::to_string(s.choice_cnt) + " options",
                          {.record = std::to_string(i)});
      b.repeats.assign(1, zscore_softmax_weights(sc));  // normalised by evaluate (distil::floor_normalise)
    }
    out.push_back(std::move(b));
  }
  return out;
}

void add_baseline_counts(const std::filesystem::path& scene_file, BaselineInputs& into) {
  util::LineReader in(scene_file);
  util::JsonLineParser parser;
  scene::SceneRecord scene;
  std::string_view line;
  while (in.next(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    scene::parse_scene(parser, line, scene, false, {.file = scene_file.string(), .line = in.line_number()});
    auto& counts = into.position_counts[scene.choice_cnt];
    counts.resize(static_cast<size_t>(scene.choice_cnt));
    ++counts[static_cast<size_t>(scene.item_pos)];
    into.item_times[scene.dataset][scene.item_id].push_back(scene.timestamp);
  }
}

EvalReport evaluate_scenes(const std::vector<EvalScene>& scenes, const EvalReportOptions& o) {
  EvalReport r;
  static_cast<EvalTable&>(r) = table_of(scenes, o.model_name, o);
  r.title = o.title;
  r.baselines.push_back(table_of(uniform_baseline(scenes), "uniform", o));
  if (!o.baselines.position_counts.empty())
    r.baselines.push_back(
        table_of(position_baseline(scenes, o.baselines.position_counts), "position prior", o));
  if (!o.baselines.item_times.empty()) {
    const auto pop = popularity_baseline(scenes, o.baselines.item_times);
    if (!pop.empty()) r.baselines.push_back(table_of(pop, "popularity", o));
  }
  if (!o.baselines.collaborative_scores.empty()) {
    const auto cf = collaborative_baseline(scenes, o.baselines.collaborative_scores);
    if (!cf.empty()) r.baselines.push_back(table_of(cf, "collaborative", o));
  }
  return r;
}

}  // namespace um::pipeline
