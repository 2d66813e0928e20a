// `usermirror scenes --dataset NAME --work DIR --split eval|train --samples N --min-exposure A
//  --max-exposure B --seed S [--threads T]` → DIR/datasets/NAME_<split>.jsonl
#include <fmt/format.h>

#include <sstream>

#include "cli/command_registry.h"
#include "scene/scene.h"
#include "util/progress.h"

namespace um::cli {

int run_scenes_command(const scene::ScenesOptions& opts) {
  util::Summary summary("scenes " + opts.dataset + " " + opts.split);
  scene::ScenesReport r = scene::run_scenes(opts);
  summary.count("interactions in", r.interactions);
  if (r.unknown_id_interactions)
    summary.skip("interactions naming an unknown user or item (ignored)", r.unknown_id_interactions);
  summary.count("candidate interactions", r.candidates);
  if (r.eval_users) summary.count("eval users (train restricted to)", r.eval_users);
  summary.count("sampled", r.sampled);
  summary.count("scenes out", r.written);
  if (r.dropped_static_history)
    summary.count("static history ids not in item table (dropped)", r.dropped_static_history);
  for (const auto& [reason, n] : r.skips) summary.skip(reason, n);
  std::string scorers;
  for (const auto& s : r.scorers) scorers += (scorers.empty() ? "" : ",") + s;
  summary.set("exposure", r.real_impressions ? "real impressions" : "sampled (" + scorers + ")");
  summary.set("time", fmt::format("load {:.3f} s, setup {:.3f} s, build+write {:.3f} s", r.load_seconds,
                                  r.setup_seconds, r.build_seconds));
  if (r.max_tokens) summary.set("length filter", "<= " + std::to_string(r.max_tokens) + " tokens");
  summary.set("peak memory", util::human_bytes(util::peak_rss_bytes()));
  summary.set("output", r.output.string());
  summary.print("scenes out");
  return 0;
}

Command scenes_command() {
  return {
      "scenes", "Build simulation scenes (eval/train sets) from the unified tables", [](CLI::App& app) {
        auto o = std::make_shared<scene::ScenesOptions>();
        auto scorers = std::make_shared<std::string>();
        auto impressions = std::make_shared<std::string>("auto");
        auto min_exp = std::make_shared<int>(-1), max_exp = std::make_shared<int>(-1);
        auto samples = std::make_shared<int64_t>(-1);
        app.add_option("--dataset", o->dataset, "Dataset name (ml-1m, MIND, Amazon-<Category>, ...)")
            ->required();
        app.add_option("--work", o->work, "Work directory (reads raws/, writes datasets/)")->required();
        app.add_option("--split", o->split, "eval (5 options by default) or train (2-12 options)")
            ->check(CLI::IsMember({"eval", "train"}))
            ->required();
        app.add_option("--samples", *samples, "Number of scenes to sample (default: eval 256, train 1024)");
        app.add_option("--min-exposure", *min_exp, "Fewest options per scene (default: eval 5, train 2)");
        app.add_option("--max-exposure", *max_exp, "Most options per scene (default: eval 5, train 12)");
        app.add_option("--seed", o->seed, "Run seed (every random choice derives from it)");
        app.add_option("--threads", o->threads,
                       "Worker threads (0 = all cores); output does not depend on it");
        app.add_option("--scorers", *scorers,
                       "Comma list of random,collaborative,content,social,popularity "
                       "(default: the dataset's, + content when vectors exist)");
        app.add_option("--content-vectors", o->content_vectors,
                       "Item vectors: JSONL {item_id, vector} or safetensors 'item_content_embedding'");
        app.add_option("--impressions", *impressions,
                       "auto (real impressions for MIND train), real, or sampled")
            ->check(CLI::IsMember({"auto", "real", "sampled"}));
        app.add_flag_function(
            "--reference-positions", [o](int64_t n) { o->shape.reference_positions = n > 0; },
            "Never put the ground truth last, as the reference does (=false: uniform even with --compat "
            "reference)");
        app.add_flag_function(
            "--collaborative-full-history", [o](int64_t n) { o->collaborative_full_history = n > 0; },
            "Collaborative query uses the user's whole row, future included, as the reference (=false: "
            "earlier interactions only even with --compat reference)");
        auto compat = std::make_shared<std::string>("usermirror");
        app.add_option("--compat", *compat,
                       "usermirror | reference: every reference behaviour of scene building at once "
                       "(docs/reference-differences.md); explicit options still win")
            ->check(CLI::IsMember({"usermirror", "reference"}))
            ->capture_default_str();
        app.add_flag("!--all-users", o->use_eval_users,
                     "Train split: do not restrict to the users of <DS>_eval.jsonl");
        app.add_flag("--with-impressions", o->with_impressions,
                     "Append impression_list (item ids) to each scene");
        app.add_option("--output", o->output, "Output file (default WORK/datasets/<DS>_<split>.jsonl)");
        app.add_option("--max-tokens", o->max_tokens,
                       "Drop scenes whose decision prompt exceeds this many tokens (0 = off; reference: 6144 "
                       "for eval sets)");
        app.add_option("--tokenizer", o->tokenizer, "Hugging Face tokenizer directory for --max-tokens");
        app.add_option("--system-prompt", o->system_prompt, "System prompt name for --max-tokens")
            ->capture_default_str();
        return [=] {
          scene::ScenesOptions opts = *o;
          opts.compat = data::parse_compat(*compat);
          bool eval = opts.split == "eval";
          opts.samples = *samples >= 0 ? static_cast<size_t>(*samples) : (eval ? 256 : 1024);
          opts.shape.min_options = *min_exp >= 0 ? *min_exp : (eval ? 5 : 2);
          opts.shape.max_options = *max_exp >= 0 ? *max_exp : (eval ? 5 : 12);
          opts.impressions = *impressions == "real"      ? scene::ImpressionMode::Real
                             : *impressions == "sampled" ? scene::ImpressionMode::Sampled
                                                         : scene::ImpressionMode::Auto;
          std::stringstream ss(*scorers);
          std::string s;
          while (std::getline(ss, s, ',')) {
            if (!s.empty()) opts.scorers.push_back(s);
          }
          return run_scenes_command(opts);
        };
      }};
}

}  // namespace um::cli
