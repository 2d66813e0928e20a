#pragma once
// Inputs of evaluate's collaborative-score baseline (evaluate_report.h, collaborative_baseline()):
// for each eval scene with known option items, the collaborative exposure scorer's score of each
// option (docs/method.md §4.3, scene/exposure/collaborative.cpp):
//   s_k = (Σ_{the user's interactions strictly before the scene} E[item]) · E[option_k],
// where E is the GF-CF item embedding (scene/exposure/collaborative_embedding.h) computed from the
// dataset's interactions *minus every eval scene's ground-truth interaction*, so no scene's answer
// informs the scores (the scene generator's own embedding cache includes them and is not used).
//
//   data::Dataset ds = data::load_dataset(work, "ml-1m");
//   auto scores = collaborative_scores(std::move(ds), scenes, {.seed = 0});
#include <cstdint>
#include <vector>

#include "data/schema.h"
#include "scene/dataset_index.h"
#include "scene/exposure/collaborative_embedding.h"
#include "scene/scene_record.h"

namespace um::pipeline {

// `ds` without the interactions that are the ground truth of a scene: same user_id and item_id, at
// the scene's timestamp (epoch ms, the interaction's µs time floored). Other interactions keep
// their order.
data::Dataset without_scene_targets(data::Dataset ds, const std::vector<const scene::SceneRecord*>& scenes);

// The scores of one scene's options (impression_list) under embedding E (rows = index's iids).
// Empty when the user is unknown or has no interaction strictly before the scene; an option item
// without interactions in the index scores 0.
std::vector<double> collaborative_option_scores(const scene::DatasetIndex& index, const scene::Matrix2D& e,
                                                const scene::SceneRecord& s);

// Scores for `scenes` (all of dataset ds.name; aligned, empty entries as above and for scenes
// without impression_list). Throws util::Error when a scene's impression_list is inconsistent.
std::vector<std::vector<double>> collaborative_scores(data::Dataset ds,
                                                      const std::vector<const scene::SceneRecord*>& scenes,
                                                      const scene::CollaborativeParams& params);

}  // namespace um::pipeline
