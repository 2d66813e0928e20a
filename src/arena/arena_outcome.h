#pragma once
// What one arena run collected, before it becomes a report (arena_report.h): the recommenders'
// lists, the pages every choice model was shown and its answers.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arena/arena.h"
#include "arena/choice_model.h"
#include "recommend/recommend.h"

namespace um::arena {

// One showing of one page (a distinct prompt may be shown several times: identical pages of two
// recommenders, or of a pair of identical recommenders).
struct Showing {
  size_t page = 0;        // index into ModelRun::pages
  size_t user = 0;        // index into ArenaData::users
  int round = 0;          // session round (0 otherwise)
  std::vector<int> recs;  // recommender indices: one (page, session) or two (interleave, a < b)
  std::vector<int> team;  // interleave: per slot, index into recs of the team that placed the item
};

struct ModelRun {
  std::string name;
  std::shared_ptr<std::vector<PageScene>> pages;  // distinct pages (shared between models when fixed)
  std::vector<Showing> showings;
  std::vector<std::vector<double>> dist;  // per page; empty = no answer (counted)
  int64_t unanswered = 0;                 // showings whose page has no answer
};

struct ArenaData {
  const ArenaOptions* options = nullptr;
  const recommend::Split* split = nullptr;
  const data::Dataset* dataset = nullptr;
  std::vector<std::string> rec_names;
  std::vector<uint32_t> users;  // evaluated users (rows), ascending
  size_t sampled_users = 0;     // before dropping users without lists
  bool users_capped = false;
  std::vector<std::vector<uint32_t>> relevant;            // per evaluated user: test items (rows)
  std::vector<std::vector<std::vector<uint32_t>>> lists;  // [rec][user]: initial ranked list
  std::vector<recommend::OfflineMetrics> offline;         // per rec, over `users`
  std::map<std::string, int64_t> skips;                   // reason -> count
  std::vector<int64_t> train_count;                       // per item row
};

}  // namespace um::arena
