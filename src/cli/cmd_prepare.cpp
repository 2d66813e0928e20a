// `usermirror prepare --dataset NAME --raw DIR --work DIR [--skip-bad]`
#include <fmt/format.h>

#include "cli/command_registry.h"
#include "data/data.h"
#include "util/progress.h"

namespace um::cli {

int run_prepare(const data::PrepareOptions& opts) {
  util::Summary summary("prepare " + opts.dataset);
  data::PrepareResult r = data::prepare(opts);
  for (const auto& [k, v] : r.stats) summary.count(k, v);
  summary.count("users out", r.users);
  summary.count("items out", r.items);
  summary.count("interactions out", r.interactions);
  for (const auto& [reason, n] : r.skipped) summary.skip(reason, n);
  summary.set("output", (opts.work_dir / "raws").string() + "/" + opts.dataset + "_*.jsonl");
  summary.print("interactions out");
  return 0;
}

Command prepare_command() {
  return {
      "prepare", "Read a raw public dataset into the unified tables raws/<DS>_*.jsonl", [](CLI::App& app) {
        auto opts = std::make_shared<data::PrepareOptions>();
        auto min_user = std::make_shared<int64_t>(-1), max_user = std::make_shared<int64_t>(-1),
             min_item = std::make_shared<int64_t>(-1), max_rows = std::make_shared<int64_t>(-1),
             min_rating_number = std::make_shared<int64_t>(-1);
        auto keep_latest = std::make_shared<double>(-1);
        app.add_option("--dataset", opts->dataset,
                       "Dataset name (ml-100k, ml-1m, ml-latest-small, MIND, ...)")
            ->required();
        app.add_option("--raw", opts->raw_dir, "Folder with the official raw files")->required();
        app.add_option("--work", opts->work_dir, "Work directory (outputs go to WORK/raws/)")->required();
        app.add_flag("--skip-bad", opts->skip_bad, "Skip malformed records, counting them per reason");
        app.add_option("--min-user-interactions", *min_user, "Override: drop users with fewer interactions");
        app.add_option("--max-user-interactions", *max_user, "Override: drop users with more interactions");
        app.add_option("--min-item-interactions", *min_item, "Override: drop items with fewer interactions");
        app.add_flag("--kcore", opts->filters.kcore,
                     "Iterate the user/item minimums to a k-core fixed point");
        app.add_option("--keep-latest-fraction", *keep_latest,
                       "Override (Amazon): keep this latest fraction");
        app.add_option("--min-rating-number", *min_rating_number,
                       "Override (Amazon): item rating_number minimum");
        app.add_option("--max-rows", *max_rows, "Read at most this many interaction rows");
        auto compat = std::make_shared<std::string>("usermirror");
        app.add_option("--compat", *compat,
                       "usermirror | reference: the reference's preprocessing where we deliberately differ "
                       "(ml-1m: its age labels, users without ratings kept; docs/reference-differences.md)")
            ->check(CLI::IsMember({"usermirror", "reference"}))
            ->capture_default_str();
        return [=] {
          data::PrepareOptions o = *opts;
          o.compat = data::parse_compat(*compat);
          if (*min_user >= 0) o.filters.min_user_interactions = *min_user;
          if (*max_user >= 0) o.filters.max_user_interactions = *max_user;
          if (*min_item >= 0) o.filters.min_item_interactions = *min_item;
          if (*keep_latest >= 0) o.filters.keep_latest_fraction = *keep_latest;
          if (*min_rating_number >= 0) o.filters.min_rating_number = *min_rating_number;
          if (*max_rows >= 0) o.filters.max_rows = *max_rows;
          return run_prepare(o);
        };
      }};
}

}  // namespace um::cli
