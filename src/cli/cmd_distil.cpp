// `usermirror distil --work DIR --datasets A,B [--name NAME] [--system-prompt NAME|FILE] [--select N]
//  [--filter-column COL] [--sampling-column COL] [--ascending] [--seed S] [--allocation MODE]`
#ifdef UM_HAVE_DISTIL
#include <fmt/format.h>

#include "cli/command_registry.h"
#include "distil/distil.h"
#include "util/progress.h"

namespace um::cli {

int run_distil(const distil::DistilOptions& opts) {
  util::Summary summary("distil " + opts.name);
  const distil::DistilResult r = distil::run_distil(opts);
  summary.count("scenes read", static_cast<uint64_t>(r.scenes));
  for (const auto& [reason, n] : r.dropped) summary.skip(reason, static_cast<uint64_t>(n));
  summary.count("candidate scenes", static_cast<uint64_t>(r.candidates));
  summary.count("pairs written", static_cast<uint64_t>(r.pairs));
  summary.count("pairs with a student rejected rationale", static_cast<uint64_t>(r.rejected_from_weak));
  for (const auto& g : r.groups)
    summary.set(fmt::format("group {} / {} options", g.dataset, g.choice_cnt),
                fmt::format("{} of {} scenes", g.taken, g.scenes));
  summary.set("pairs", r.pref_file.string());
  summary.set("sft", r.sft_file.string());
  summary.set("scene metrics", r.metrics_file.string());
  summary.print("scenes read");
  return 0;
}

Command distil_command() {
  return {
      "distil",
      "Select teacher/student preference pairs from probs files (datasets/NAME_pref.jsonl, _sft.jsonl)",
      [](CLI::App& app) {
        auto o = std::make_shared<distil::DistilOptions>();
        auto allocation = std::make_shared<std::string>();
        auto compat = std::make_shared<std::string>("usermirror");
        app.add_option("--work", o->work_dir, "Work directory (datasets/, probs/)")->required();
        app.add_option("--datasets", o->datasets, "Datasets to use, comma separated")
            ->required()
            ->delimiter(',');
        app.add_option("--name", o->name, "Output name: datasets/NAME_pref.jsonl")->capture_default_str();
        auto prompts_dir = std::make_shared<std::string>();
        app.add_option("--system-prompt", o->system_prompt_file,
                       "System prompt of the training messages: a prompt name (prompts/, e.g. reasoning-v1, "
                       "authors-default) or a file ('-': stdin); the one the rationales were generated with")
            ->default_str("reasoning-v1");
        app.add_option("--prompts-dir", *prompts_dir, "Directory searched first for prompt names");
        app.add_option("--select", o->select, "Number of pairs to select (filtered_num)")
            ->capture_default_str();
        app.add_option("--filter-column", o->filter_column,
                       "Scene metric ranking the scenes (e.g. diff_model_uncertainty, diff_all_uncertainty, "
                       "student_entropy) or 'random'")
            ->capture_default_str();
        app.add_option("--sampling-column", o->sampling_column,
                       "Per-rationale column choosing chosen/rejected (smallest wins): entropy, logloss, "
                       "random")
            ->capture_default_str();
        app.add_flag("--ascending", o->ascending, "Rank scenes by the filter column ascending");
        app.add_option("--seed", o->seed, "Seed of behaviour sampling and random ablations")
            ->capture_default_str();
        app.add_option("--allocation", *allocation,
                       "Pairs per (dataset, choice_cnt): proportional (exact shares) or reference (the "
                       "authors' row-based ceiling allocation)")
            ->check(CLI::IsMember({"proportional", "reference"}))
            ->default_str("proportional; reference with --compat reference");
        app.add_option("--compat", *compat,
                       "usermirror | reference: the reference's allocation and 5-letter behaviour sampling "
                       "(docs/reference-differences.md); an explicit --allocation wins")
            ->check(CLI::IsMember({"usermirror", "reference"}))
            ->capture_default_str();
        app.add_option("--threads", o->threads, "Threads (0 = all cores)")->capture_default_str();
        return [=] {
          distil::DistilOptions opts = *o;
          if (!prompts_dir->empty()) opts.prompts_dir = *prompts_dir;
          opts.compat = data::parse_compat(*compat);
          if (!allocation->empty())
            opts.allocation =
                *allocation == "reference" ? distil::Allocation::reference : distil::Allocation::proportional;
          return um::cli::run_distil(opts);
        };
      }};
}

}  // namespace um::cli
#endif  // UM_HAVE_DISTIL
