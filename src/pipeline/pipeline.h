#pragma once
// pipeline — the method's LLM stages and `usermirror run` over the reference's file layout
// (docs/method.md §6–7, §10; distil, §8, is its own component: distil/distil.h).
//
//   pipeline::RunConfig c = pipeline::load_run_config("configs/demo.toml");
//   util::Summary summary("run");
//   pipeline::RunReport r = pipeline::run_pipeline(c, hooks, summary);   // every stage, resumable
//
//   pipeline::StageCounts k = pipeline::run_decide(backend, decide_options);  // one stage alone
//
// A run is a list of stages (stage.h, run_stages.h), each skipped when its manifest says its outputs
// are complete for its fingerprint (stage_manifest.h). Contracts: every random choice uses
// util::Rng::stream(seed, stage, record) so results do not depend on thread count or restarts;
// inputs are validated with file/line/field errors (util::Error); output files are written
// atomically, the LLM stages' through a resumable request store (llm_stage.h).
#include "pipeline/evaluate_report.h"
#include "pipeline/evaluate_stage.h"
#include "pipeline/llm_stages.h"
#include "pipeline/run_config.h"
#include "pipeline/run_stages.h"
#include "pipeline/runner.h"
#include "pipeline/stage.h"
