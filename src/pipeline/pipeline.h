#pragma once
// pipeline — the method's stages over the reference's file layout (docs/method.md §6–8, §10).
//
//   pipeline::DistilOptions o;                  // distil (§8): pairs + SFT + scene metrics
//   o.work_dir = "work"; o.datasets = {"ml-1m"}; o.system_prompt_file = "system.txt";
//   pipeline::DistilResult r = pipeline::run_distil(o);
//
//   pipeline::EvalScene s{.dataset = "ml-1m", .truth = 2, .repeats = {{0.1, 0.2, 0.7}}};
//   pipeline::EvalReport rep = pipeline::evaluate_scenes({s}, pipeline::EvalOptions{});
//
// Contracts: every random choice uses util::Rng::stream(seed, stage, record) so results do not depend
// on thread count; inputs are validated with file/line/field errors (util::Error); output files are
// written atomically. Functions are thread-compatible (no shared mutable state).
#include "pipeline/distil.h"
#include "pipeline/distil_scene.h"
#include "pipeline/distil_select.h"
#include "pipeline/option_probs.h"
#include "pipeline/reference_fields.h"
#include "pipeline/reference_io.h"
#include "pipeline/scene_messages.h"
