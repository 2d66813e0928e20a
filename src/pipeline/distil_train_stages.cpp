// The stages of `usermirror run` between scoring and evaluation: distil (docs/method.md §8) and,
// when [train] is enabled, fine-tuning the student on its outputs (§9, through RunHooks::train).
#include "distil/distil.h"
#include "distil/work_layout.h"
#include "pipeline/run_stages.h"

namespace um::pipeline {
namespace fs = std::filesystem;

Stage distil_stage(RunContext& ctx) {
  const RunConfig& c = ctx.config;
  distil::DistilOptions o;
  o.work_dir = c.work;
  for (const auto& d : c.datasets) o.datasets.push_back(d.name);
  o.name = c.distil.name;
  o.select = c.distil.select;
  o.filter_column = c.distil.filter_column;
  o.sampling_column = c.distil.sampling_column;
  o.ascending = c.distil.ascending;
  o.seed = c.seed;
  o.system_prompt_file = ctx.prompt_file;
  o.threads = c.threads;
  o.compat = c.compat;
  const distil::DistilFiles files = distil::distil_files(c.work, c.distil.name);

  Stage s{.id = "distil", .outputs = {files.pref, files.sft, files.metrics}};
  s.param("name", c.distil.name)
      .param("select", c.distil.select)
      .param("filter", c.distil.filter_column)
      .param("sampling", c.distil.sampling_column)
      .param("ascending", std::string(c.distil.ascending ? "1" : "0"))
      .param("seed", static_cast<int64_t>(c.seed))
      .param("prompt", ctx.system_prompt);
  if (ctx.reference) s.param("compat", "reference");
  for (const auto& d : c.datasets) {
    s.input("train/" + d.name, distil::scenes_path(c.work, d.name, "train"));
    s.input("strong/" + d.name, distil::probs_path(c.work, d.name, "strong"));
    s.input("weak/" + d.name, distil::probs_path(c.work, d.name, "weak"));
  }
  s.run = [&ctx, o] {
    distil::DistilResult r = distil::run_distil(o);
    ctx.summary.count("preference pairs", static_cast<uint64_t>(r.pairs));
  };
  return s;
}

Stage train_stage(RunContext& ctx) {
  const RunConfig& c = ctx.config;
  const distil::DistilFiles files = distil::distil_files(c.work, c.distil.name);
  Stage s{.id = "train", .outputs = {ctx.trained_model}};
  s.param("student", ctx.student)
      .param("sft_steps", c.train.sft_steps)
      .param("dpo_steps", c.train.dpo_steps)
      .param("lora_rank", c.train.lora_rank)
      .param("seed", static_cast<int64_t>(c.seed))
      .input("sft", files.sft)
      .input("pref", files.pref);
  if (ctx.reference) s.param("compat", "reference");
  s.run = [&ctx, files] { ctx.hooks.train(ctx.config, files.sft, files.pref, ctx.student); };
  return s;
}

}  // namespace um::pipeline
