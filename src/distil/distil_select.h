#pragma once
// Stratified selection of preference pairs (docs/method.md §8.6): scenes are ranked by a filter column,
// grouped by (dataset, choice_cnt) and each group receives a share of the requested pair count.
#include <cstdint>
#include <string>
#include <vector>

namespace um::distil {

enum class Allocation {
  // Largest-remainder apportionment of T = min(select, #scenes) over scenes: every group gets
  // floor(S_g * T / S) plus at most one of the leftover pairs (largest remainders first, ties in key
  // order); exactly T pairs, proportional to group size (§11 item 27 fixed).
  proportional,
  // The reference: shares computed on rows (2 per scene): T = min(select, 2S), a_g =
  // min(ceil(2S_g / 2S * T), 2S_g, remaining) in key order, then min(a_g, S_g) scenes taken.
  reference,
};

// Number of scenes to take per group, groups in key order. `group_scenes` = scenes per group.
std::vector<int64_t> allocate_pairs(const std::vector<int64_t>& group_scenes, int64_t select,
                                    Allocation allocation);

// A scene that has both a chosen and a rejected candidate.
struct RankedScene {
  std::string dataset;  // group key part 1 (the scene's dataset field)
  int choice_cnt = 0;   // group key part 2
  uint32_t source = 0;  // tie-break: index of the input dataset (in --datasets order)
  int64_t cid = 0;      // tie-break: train row number
  double key = 0;       // filter column value (or a random draw)
};

// Returns the indices (into `scenes`) of the selected scenes, grouped in (dataset, choice_cnt) key
// order and ranked inside each group: by key descending (ascending if `ascending`), ties by
// (source, cid). `group_allocation`, if given, receives (group label, scenes, taken) per group.
struct GroupAllocation {
  std::string dataset;
  int choice_cnt = 0;
  int64_t scenes = 0;
  int64_t taken = 0;
};
std::vector<size_t> select_scenes(const std::vector<RankedScene>& scenes, int64_t select, bool ascending,
                                  Allocation allocation, std::vector<GroupAllocation>* group_allocation);

}  // namespace um::distil
