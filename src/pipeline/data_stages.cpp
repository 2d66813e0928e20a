// The data stages of `usermirror run`: prepare (raw files → unified tables) and scenes (tables →
// eval and train scene files), docs/method.md §2–3.
#include "data/prepare.h"
#include "data/schema.h"
#include "distil/work_layout.h"
#include "pipeline/run_stages.h"
#include "scene/scene.h"

namespace um::pipeline {
namespace fs = std::filesystem;

std::vector<fs::path> raw_files(const fs::path& work, const std::string& dataset) {
  return {work / data::user_file(dataset), work / data::item_file(dataset),
          work / data::interaction_file(dataset)};
}

Stage prepare_stage(RunContext& ctx, const RunDataset& d) {
  const RunConfig& c = ctx.config;
  Stage s{.id = "prepare/" + d.name, .outputs = raw_files(c.work, d.name)};
  s.param("dataset", d.name).input("raw", d.raw);
  if (ctx.reference) s.param("compat", "reference");  // absent by default: existing work dirs stay valid
  data::PrepareOptions o{.dataset = d.name, .raw_dir = d.raw, .work_dir = c.work, .compat = c.compat};
  s.run = [&ctx, o] {
    data::PrepareResult r = data::prepare(o);
    ctx.summary.count("interactions prepared", r.interactions);
  };
  return s;
}

Stage scenes_stage(RunContext& ctx, const RunDataset& d, const std::string& split) {
  const RunConfig& c = ctx.config;
  const bool eval = split == "eval";
  scene::ScenesOptions o;
  o.dataset = d.name;
  o.work = c.work;
  o.split = split;
  o.samples = static_cast<size_t>(eval ? d.eval_samples : d.train_samples);
  o.shape.min_options = static_cast<size_t>(eval ? d.eval_min_exposure : d.train_min_exposure);
  o.shape.max_options = static_cast<size_t>(eval ? d.eval_max_exposure : d.train_max_exposure);
  o.seed = c.seed;
  o.threads = c.threads;
  o.compat = c.compat;
  // Eval scenes carry impression_list (as the released eval set does) for the popularity baseline.
  o.with_impressions = eval;

  Stage s{.id = "scenes/" + d.name + "/" + split, .outputs = {distil::scenes_path(c.work, d.name, split)}};
  for (const auto& p : raw_files(c.work, d.name)) s.input(p.filename().string(), p);
  s.param("split", split)
      .param("samples", static_cast<int64_t>(o.samples))
      .param("min", static_cast<int64_t>(o.shape.min_options))
      .param("max", static_cast<int64_t>(o.shape.max_options))
      .param("seed", static_cast<int64_t>(c.seed));
  if (!eval) s.input("eval", distil::scenes_path(c.work, d.name, "eval"));
  if (ctx.reference) s.param("compat", "reference");
  if (eval && c.eval_max_tokens > 0) {  // docs/method.md §3.6
    o.max_tokens = static_cast<size_t>(c.eval_max_tokens);
    o.tokenizer = ctx.length_tokenizer;
    o.system_prompt_text = ctx.system_prompt;
    s.param("max_tokens", c.eval_max_tokens)
        .param("prompt", ctx.system_prompt)
        .input("tokenizer", ctx.length_tokenizer / "tokenizer.json")
        .input("tokenizer_config", ctx.length_tokenizer / "tokenizer_config.json");
  }
  s.run = [&ctx, o, split] {
    scene::ScenesReport r = scene::run_scenes(o);
    ctx.summary.count(split + " scenes", r.written);
  };
  return s;
}

}  // namespace um::pipeline
