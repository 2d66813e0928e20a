#pragma once
// The arena's report (docs/arena.md "Reading the report"): per recommender its offline metrics and
// what the simulator made of its pages; pairwise win rates; the simulator's ranking and its rank
// agreement with every offline metric, with bootstrap intervals over users; the same agreement for
// each control simulator; per-round drift in sessions. report.json, report.md and pages.jsonl are
// written atomically and hold no timings, so a rerun writes the same bytes.
#include <filesystem>
#include <string>
#include <vector>

#include "arena/arena_outcome.h"

namespace um::arena {

struct ReportFiles {
  std::filesystem::path json, markdown, pages;
  std::vector<std::string> ranking;  // the simulator's (runs[0]) ranking, best first
};

// runs[0] is the simulator, the others the controls.
ReportFiles write_arena_report(const ArenaData& data, const std::vector<ModelRun>& runs,
                               const std::filesystem::path& out_dir);

}  // namespace um::arena
