#include "pipeline/collaborative_baseline.h"

#include <set>
#include <string>
#include <tuple>

#include "util/time.h"

namespace um::pipeline {

data::Dataset without_scene_targets(data::Dataset ds, const std::vector<const scene::SceneRecord*>& scenes) {
  std::set<std::tuple<std::string_view, std::string_view, int64_t>> targets;
  for (const scene::SceneRecord* s : scenes) targets.emplace(s->user_id, s->item_id, s->timestamp);
  std::vector<data::Interaction> kept;
  kept.reserve(ds.interactions.size());
  for (auto& x : ds.interactions)
    if (!targets.contains({x.user_id, x.item_id, util::epoch_ms_from_us(x.timestamp_us)}))
      kept.push_back(std::move(x));
  ds.interactions = std::move(kept);
  return ds;
}

std::vector<double> collaborative_option_scores(const scene::DatasetIndex& index, const scene::Matrix2D& e,
                                                const scene::SceneRecord& s) {
  const int64_t user = index.user_row(s.user_id);
  if (user < 0 || e.cols == 0) return {};
  const auto u = static_cast<uint32_t>(user);
  const size_t history = index.count_before(u, s.timestamp * 1000);
  if (history == 0) return {};
  auto row = [&](int64_t item) -> const float* {
    if (item < 0) return nullptr;
    const int32_t iid = index.item_iid(static_cast<uint32_t>(item));
    return iid < 0 ? nullptr : e.data.data() + static_cast<size_t>(iid) * e.cols;
  };
  std::vector<double> query(e.cols, 0.0);
  auto timeline = index.timeline(u);
  for (size_t i = 0; i < history; ++i) {
    const float* r = row(index.interaction_item(timeline.begin()[i]));
    for (size_t c = 0; c < e.cols; ++c) query[c] += r[c];
  }
  std::vector<double> scores;
  for (const auto& id : s.impression_list) {
    const float* r = row(index.item_row(id));
    double dot = 0;
    if (r != nullptr)
      for (size_t c = 0; c < e.cols; ++c) dot += query[c] * r[c];
    scores.push_back(dot);
  }
  return scores;
}

std::vector<std::vector<double>> collaborative_scores(data::Dataset ds,
                                                      const std::vector<const scene::SceneRecord*>& scenes,
                                                      const scene::CollaborativeParams& params) {
  const data::Dataset filtered = without_scene_targets(std::move(ds), scenes);
  const scene::DatasetIndex index(filtered);
  const scene::Matrix2D e = scene::collaborative_embedding(index, params);
  std::vector<std::vector<double>> out;
  out.reserve(scenes.size());
  for (const scene::SceneRecord* s : scenes)
    out.push_back(s->impression_list.empty() ? std::vector<double>{}
                                             : collaborative_option_scores(index, e, *s));
  return out;
}

}  // namespace um::pipeline
