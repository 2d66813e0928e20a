// `usermirror arena`: recommenders judged by simulated users (arena/arena.h, docs/arena.md).
#ifdef UM_HAVE_ARENA
#include "arena/arena.h"
#include "cli/command_registry.h"
#include "util/progress.h"

namespace um::cli {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Command arena_command() {
  return {
      "arena", "Recommenders judged by simulated users → <work>/arena/<name>/report.{json,md}, pages.jsonl",
      [](CLI::App& app) {
        auto o = std::make_shared<arena::ArenaOptions>();
        auto recs = std::make_shared<std::string>();
        auto controls = std::make_shared<std::string>(
            "baseline:uniform,baseline:position,baseline:popularity,baseline:collaborative");
        app.add_option("--work", o->work, "Work directory holding raws/<DS>_* (usermirror prepare)")
            ->required();
        app.add_option("--dataset", o->dataset, "Dataset name")->required();
        app.add_option("--recommenders", *recs,
                       "Comma-separated recommender specs: random, pop[?window=DAYS], itemknn[?k=&shrink=], "
                       "ease[?lambda=], bpr[?factors=&epochs=&lr=&reg=], file:PATH, recbole:PATH, http:URL")
            ->required();
        app.add_option(
               "--simulator", o->simulator,
               "Backend spec (local:DIR, openai:URL?model=...) or a control: baseline:uniform|position|"
               "popularity|collaborative")
            ->required();
        app.add_option("--mode", o->mode, "LLM simulator mode")
            ->check(CLI::IsMember({"direct", "reasoning"}))
            ->capture_default_str();
        app.add_option("--protocol", o->protocol, "interleave | multileave | page | session")
            ->check(CLI::IsMember({"interleave", "multileave", "page", "session"}))
            ->capture_default_str();
        app.add_option("--users", o->users, "Test users sampled (0 = all)")->capture_default_str();
        app.add_option("--page-size", o->page_size, "Items per page (2-12)")->capture_default_str();
        app.add_option(
               "--history", o->history,
               "History entries per page: 0 = the reference's random 2-10 window, N = the N most recent")
            ->capture_default_str();
        app.add_option("--rounds", o->rounds, "Session rounds")->capture_default_str();
        app.add_option("--offline-k", o->offline_k, "Cut-off K of the offline metrics")
            ->capture_default_str();
        app.add_option("--split", o->split, "global-time[:Q] | leave-last[:N]")->capture_default_str();
        app.add_option("--name", o->name, "Output folder under <work>/arena/ (default: the protocol)");
        app.add_option("--seed", o->seed, "Seed of every random choice")->capture_default_str();
        app.add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
        app.add_option("--prompt", o->system_prompt,
                       "System prompt name or file (default direct-v1 / reasoning-v1)");
        app.add_option("--prompts-dir", o->prompts_dir, "Extra folder searched first for prompts");
        app.add_option("--repeats", o->repeats, "Reasoning mode: rationales per page")->capture_default_str();
        app.add_option("--max-tokens", o->max_tokens, "Reasoning mode: tokens per rationale")
            ->capture_default_str();
        app.add_option("--temperature", o->temperature, "Reasoning mode: sampling temperature")
            ->capture_default_str();
        app.add_option("--top-p", o->top_p, "Reasoning mode: nucleus sampling")->capture_default_str();
        app.add_option("--max-failures", o->max_failures, "Skip budget: simulator requests allowed to fail")
            ->capture_default_str();
        app.add_option("--controls", *controls, "Comma-separated control simulators scored on the same pages")
            ->capture_default_str();
        app.add_option("--order", o->order, "Request order: grouped (by user, prefix-cache friendly) | naive")
            ->check(CLI::IsMember({"grouped", "naive"}))
            ->capture_default_str();
        app.add_option("--bootstrap", o->bootstrap, "Bootstrap resamples over users")->capture_default_str();
        app.add_flag("!--no-figures", o->figures, "Do not draw the PNG figures");
        return [=] {
          arena::ArenaOptions opts = *o;
          opts.recommenders = split_list(*recs);
          opts.controls = split_list(*controls);
          util::Summary summary("arena");
          arena::ArenaResult r = arena::run_arena(opts, summary);
          summary.print("pages");
          (void)r;
          return 0;
        };
      }};
}

}  // namespace um::cli
#endif
