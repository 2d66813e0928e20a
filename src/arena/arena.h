#pragma once
// arena — recommenders judged by simulated users (docs/arena.md, docs/method.md §12).
//
//   arena::ArenaOptions o;
//   o.work = "work"; o.dataset = "ml-1m";
//   o.recommenders = {"pop", "itemknn", "ease"};
//   o.simulator = "local:/models/usermirror-3b";     // or "baseline:popularity", "openai:..."
//   o.protocol = "interleave"; o.users = 200; o.seed = 7;
//   util::Summary summary("arena");
//   arena::ArenaResult r = arena::run_arena(o, summary);   // work/arena/<name>/report.{json,md}, pages.jsonl
//
// The flow: split the prepared dataset (recommend::Split), train the built-in recommenders on the
// train part, ask every recommender for each sampled test user's top-K at the time of that user's
// first test interaction, turn the lists into pages (one recommender's page, a team-draft
// interleaving of two, or R rounds of a session), render each page as a scene with the dataset's
// templates, ask the simulator for its choice distribution, and compare the simulator's ranking of
// the recommenders with their offline metrics on the held-out interactions and with control
// simulators on the same pages.
//
// Determinism: every random choice comes from util::Rng::stream(seed, "arena/...", record), so the
// outputs depend only on (data, options, seed) and the simulator's answers. Resumable: LLM answers
// are appended to <out>/requests.store.jsonl as they arrive; a rerun (after kill -9) asks again only
// the page groups with a missing answer (the pages of one user at one time, which the embedded
// engine scores together) and rebuilds byte-identical outputs. Errors: util::Error with file/line/field.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arena/choice_model.h"
#include "util/progress.h"

namespace um::backend {
class Backend;
}

namespace um::arena {

struct ArenaOptions {
  std::filesystem::path work;
  std::string dataset;
  std::vector<std::string> recommenders;  // recommend::make_recommender specs, at least 2 (1 for page)
  std::string simulator;                // backend spec, or baseline:uniform|position|popularity|collaborative
  std::string mode = "direct";          // direct | reasoning (LLM simulators)
  std::string protocol = "interleave";  // interleave | multileave | page | session
  size_t users = 200;                   // sampled test users (0 = all)
  size_t page_size = 5;                 // 2..12
  // History entries in each page's scene: 0 = the reference's random window of 2–10 entries per
  // (user, time); N (1..scene::kMaxHistoryWindow) = the N most recent (all when the user has fewer).
  size_t history = 0;
  int rounds = 3;      // session protocol
  int offline_k = 10;  // cut-off of the offline metrics
  std::string split = "global-time:0.9";
  std::string name;  // output folder name under <work>/arena/; default "<protocol>"
  uint64_t seed = 0;
  unsigned threads = 0;
  // LLM simulators: the system prompt (a prompt name or a file; default direct-v1 / reasoning-v1).
  std::string system_prompt;
  std::filesystem::path prompts_dir;
  int repeats = 3;  // reasoning mode: rationales per page
  int max_tokens = 1024;
  double temperature = 1.0;
  double top_p = 0.8;
  int64_t max_failures = 0;  // LLM requests that may fail before the run fails (counted skips)
  // Control simulators scored on the same pages (their agreement is reported beside the simulator's).
  std::vector<std::string> controls = {"baseline:uniform", "baseline:position", "baseline:popularity",
                                       "baseline:collaborative"};
  // Order of the LLM requests: "grouped" (all pages of one user together, so the prefix cache serves
  // the shared system prompt + profile + history once) or "naive" (recommender by recommender).
  std::string order = "grouped";
  int64_t bootstrap = 1000;
  // Recommenders the caller builds itself (the Python package's Python objects, docs/python.md):
  // asked for every name in `recommenders` before recommend::make_recommender; null = not its own.
  std::function<std::unique_ptr<recommend::Recommender>(const std::string& name, const data::Dataset& dataset,
                                                        const recommend::Split& split)>
      custom_recommender;
  bool figures = true;
  bool progress = true;
};

struct ArenaResult {
  std::filesystem::path out_dir, report_json, report_md, pages_jsonl;
  size_t users = 0;
  size_t pages = 0;                   // pages shown (all protocols, rounds and recommenders)
  size_t distinct_pages = 0;          // distinct (user, history, page) prompts the simulator answered
  std::vector<std::string> ranking;   // recommenders, best first, by the simulator
  double seconds_simulator = 0;       // time inside the simulator (LLM) calls
  double cpu_seconds_simulator = -1;  // process CPU time inside them (LLM simulators; -1 = not measured)
  double prefix_cache_hit_rate =
      -1;  // share of option-prompt tokens the engine's prefix cache served (-1 = unknown)
  double seconds_recommenders = 0;  // training the built-in recommenders and asking every one for lists
  double seconds_total = 0;
  bool figures = false;
};

// Runs the arena with the simulator named by options.simulator (a backend is created from the spec
// when it is not a baseline).
ArenaResult run_arena(const ArenaOptions& options, util::Summary& summary);
// With a backend the caller made (LLM simulator; options.simulator is used as its name).
ArenaResult run_arena(const ArenaOptions& options, backend::Backend& backend, util::Summary& summary);
// With any choice model (tests use a known utility model; the Python package a Python one).
ArenaResult run_arena(const ArenaOptions& options, ChoiceModel& simulator, util::Summary& summary);

// Draws win_rates.png, ranking.png and positions.png beside the report with
// scripts/plot_arena_report.py (Debian's python3-matplotlib); false, with a message, when unavailable.
bool render_arena_figures(const std::filesystem::path& report_json, const std::filesystem::path& out_dir);

}  // namespace um::arena
