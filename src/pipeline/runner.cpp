#include "pipeline/runner.h"

#include "pipeline/run_context.h"
#include "pipeline/run_stages.h"
#include "pipeline/stage.h"

namespace um::pipeline {

std::vector<Stage> run_stages(RunContext& ctx) {
  const RunConfig& c = ctx.config;
  std::vector<Stage> stages;
  for (const auto& d : c.datasets) {
    stages.push_back(prepare_stage(ctx, d));
    for (const std::string split : {"eval", "train"}) stages.push_back(scenes_stage(ctx, d, split));
  }
  for (const auto& d : c.datasets) {
    for (const std::string variant : {"strong", "weak"}) {
      stages.push_back(decide_stage(ctx, d, variant));
      stages.push_back(score_stage(ctx, d, variant));
    }
  }
  stages.push_back(distil_stage(ctx));
  if (c.train.enabled) stages.push_back(train_stage(ctx));
  if (c.evaluate.enabled)
    for (const auto& mode : c.evaluate.modes) stages.push_back(evaluate_stage(ctx, mode));
  if (c.arena.enabled)
    for (const auto& protocol : c.arena.protocols) stages.push_back(arena_stage(ctx, protocol));
  return stages;
}

RunReport run_pipeline(const RunConfig& c, const RunHooks& hooks, util::Summary& summary) {
  RunReport report;
  RunContext ctx(c, hooks, summary);
  for (const Stage& s : run_stages(ctx)) {
    if (run_stage(c.work, s)) {
      ++report.stages_run;
      report.log.push_back(s.id + ": ran");
    } else {
      ++report.stages_skipped;
      report.log.push_back(s.id + ": skipped (outputs complete)");
    }
  }
  return report;
}

}  // namespace um::pipeline
