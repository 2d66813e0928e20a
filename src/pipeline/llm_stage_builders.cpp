// The stages of `usermirror run` that ask an LLM: decide and score (docs/method.md §6–7), evaluate
// (§10) and the arena (docs/arena.md, run through RunHooks::arena). Each resumes from a request store
// beside its output; `reset` discards the store of an attempt made with another fingerprint.
#include <fmt/format.h>

#include "data/schema.h"
#include "distil/work_layout.h"
#include "pipeline/evaluate_stage.h"
#include "pipeline/llm_stages.h"
#include "pipeline/run_stages.h"

namespace um::pipeline {
namespace fs = std::filesystem;

namespace {
std::function<void()> remove_file(const fs::path& p) {
  return [p] {
    std::error_code ec;
    fs::remove(p, ec);
  };
}
}  // namespace

Stage decide_stage(RunContext& ctx, const RunDataset& d, const std::string& variant) {
  const RunConfig& c = ctx.config;
  const std::string spec = variant == "strong" ? ctx.teacher : ctx.student;
  const fs::path dec = distil::decisions_path(c.work, d.name, variant);
  Stage s{
      .id = "decide/" + d.name + "/" + variant, .outputs = {dec}, .reset = remove_file(store_path_for(dec))};
  s.param("backend", spec)
      .param("n", c.decide.n)
      .param("temperature", c.decide.temperature)
      .param("top_p", c.decide.top_p)
      .param("max_tokens", c.decide.max_tokens)
      .param("seed", static_cast<int64_t>(c.seed))
      .param("prompt", ctx.system_prompt)
      .input("train", distil::scenes_path(c.work, d.name, "train"));
  DecideOptions o{.work = c.work,
                  .dataset = d.name,
                  .variant = variant,
                  .system_prompt = ctx.system_prompt,
                  .n = static_cast<int>(c.decide.n),
                  .temperature = c.decide.temperature,
                  .top_p = c.decide.top_p,
                  .max_tokens = static_cast<int>(c.decide.max_tokens),
                  .seed = c.seed};
  s.run = [&ctx, spec, o] {
    StageCounts k = run_decide(ctx.backend(spec), o);
    ctx.summary.count("decide requests sent", static_cast<uint64_t>(k.sent));
    ctx.summary.count("decide answers reused", static_cast<uint64_t>(k.reused));
    ctx.summary.count("tokens (decide)", static_cast<uint64_t>(k.tokens));
  };
  return s;
}

Stage score_stage(RunContext& ctx, const RunDataset& d, const std::string& variant) {
  const RunConfig& c = ctx.config;
  const fs::path probs = distil::probs_path(c.work, d.name, variant);
  Stage s{.id = "score/" + d.name + "/" + variant,
          .outputs = {probs},
          .reset = remove_file(store_path_for(probs))};
  s.param("backend", ctx.predictor)
      .param("prompt", ctx.system_prompt)
      .input("decisions", distil::decisions_path(c.work, d.name, variant));
  ScoreOptions o{.work = c.work, .dataset = d.name, .variant = variant, .system_prompt = ctx.system_prompt};
  s.run = [&ctx, o] {
    StageCounts k = run_score(ctx.backend(ctx.predictor), o);
    ctx.summary.count("score requests sent", static_cast<uint64_t>(k.sent));
    ctx.summary.count("score answers reused", static_cast<uint64_t>(k.reused));
  };
  return s;
}

Stage evaluate_stage(RunContext& ctx, const std::string& mode) {
  const RunConfig& c = ctx.config;
  EvaluateOptions o;
  o.work = c.work;
  for (const auto& d : c.datasets) o.inputs.push_back(distil::scenes_path(c.work, d.name, "eval"));
  o.mode = mode;
  o.system_prompt = mode == "direct" ? ctx.direct_prompt : ctx.system_prompt;
  o.repeats = static_cast<int>(c.evaluate.repeats);
  o.max_tokens = static_cast<int>(c.evaluate.max_tokens);
  o.seed = c.seed;
  o.out_dir = c.work / "eval" / mode;
  o.compat = c.compat;
  if (context_limit(o) > 0) o.context_tokenizer = ctx.length_tokenizer;

  Stage s{.id = "evaluate/" + mode,
          .outputs = {o.out_dir / "report.json"},
          .reset = remove_file(o.out_dir / "predictions.store.jsonl")};
  s.param("backend", ctx.simulator)
      .param("mode", mode)
      .param("prompt", o.system_prompt)
      .param("repeats", c.evaluate.repeats)
      .param("max_tokens", c.evaluate.max_tokens)
      .param("seed", static_cast<int64_t>(c.seed));
  if (ctx.reference) s.param("compat", "reference");
  for (const auto& in : o.inputs) s.input(in.filename().string(), in);
  if (c.train.enabled) s.input("pref", distil::distil_files(c.work, c.distil.name).pref);
  s.run = [&ctx, o] {
    EvaluateResult r = run_evaluate(ctx.backend(ctx.simulator), o);
    ctx.summary.set("hit rate (" + o.mode + ")", fmt::format("{:.4f}", r.expected_hit_rate));
  };
  return s;
}

Stage arena_stage(RunContext& ctx, const std::string& protocol) {
  const RunConfig& c = ctx.config;
  const std::string simulator = c.arena.simulator.empty() ? ctx.simulator : c.arena.simulator;
  const fs::path out = c.work / "arena" / protocol;
  Stage s{.id = "arena/" + protocol,
          .outputs = {out / "report.json"},
          .reset = remove_file(out / "requests.store.jsonl")};
  s.param("simulator", simulator)
      .param("dataset", c.arena.dataset)
      .param("mode", c.arena.mode)
      .param("prompt", c.arena.mode == "direct" ? ctx.direct_prompt : ctx.system_prompt)
      .param("users", c.arena.users)
      .param("page_size", c.arena.page_size)
      .param("rounds", c.arena.rounds)
      .param("split", c.arena.split)
      .param("seed", static_cast<int64_t>(c.seed));
  // Only when set, so the stages of runs made before the option keep their identity.
  if (c.arena.history != 0) s.param("history", c.arena.history);
  for (const auto& r : c.arena.recommenders) s.param("recommender", r);
  s.input("interactions", c.work / data::interaction_file(c.arena.dataset));
  if (c.train.enabled) s.input("pref", distil::distil_files(c.work, c.distil.name).pref);
  s.run = [&ctx, protocol, simulator] { ctx.hooks.arena(ctx.config, protocol, simulator, ctx.summary); };
  return s;
}

}  // namespace um::pipeline
