#include "pipeline/runner.h"

#include <fmt/format.h>

#include <cstdio>

#include "backend/backend.h"
#include "data/prepare.h"
#include "pipeline/distil.h"
#include "pipeline/evaluate_stage.h"
#include "pipeline/llm_stages.h"
#include "pipeline/stage_manifest.h"
#include "scene/scene.h"
#include "text/prompt_store.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::pipeline {
namespace fs = std::filesystem;

namespace {

// Runs `body` unless the stage is complete for `fp`; `reset` discards partial state of an earlier
// attempt made with other inputs. Returns true when the stage ran.
bool stage(const RunConfig& c, RunReport& report, const std::string& id, const Fingerprint& fp,
           const std::vector<fs::path>& outputs, const std::function<void()>& body,
           const std::function<void()>& reset = {}) {
  StageManifest m(c.work, id);
  if (m.complete(fp.hex())) {
    ++report.stages_skipped;
    report.log.push_back(id + ": skipped (outputs complete)");
    std::printf("[run] %-32s skipped: outputs complete\n", id.c_str());
    return false;
  }
  std::printf("[run] %-32s running\n", id.c_str());
  std::fflush(stdout);
  if (m.begin(fp.hex()) && reset) reset();
  body();
  m.finish(fp.hex(), outputs);
  ++report.stages_run;
  report.log.push_back(id + ": ran");
  return true;
}

void remove_if_exists(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

RunReport run_pipeline(const RunConfig& c, const RunHooks& hooks, util::Summary& summary) {
  RunReport report;
  const bool reference = c.compat == data::Compat::reference;
  fs::create_directories(c.work);
  std::optional<fs::path> prompts_dir;
  if (!c.prompts_dir.empty()) prompts_dir = c.prompts_dir;
  const std::string system_prompt = text::load_prompt(c.system_prompt, prompts_dir);
  const std::string direct_prompt = text::load_prompt(c.direct_prompt, prompts_dir);
  const fs::path prompt_file = c.work / "prompts" / (c.system_prompt + ".txt");
  util::write_file_atomic(prompt_file, system_prompt);

  // ---- backends ----
  std::string teacher = c.models.teacher, student = c.models.student, predictor = c.models.predictor;
  if (teacher.empty() || student.empty() || predictor.empty()) {
    if (!hooks.tiny_model)
      throw util::Error("no backend configured for teacher/student/predictor",
                        {.file = c.config_file.string(), .field = "models"});
    std::string tiny = hooks.tiny_model(c);
    if (teacher.empty()) teacher = tiny;
    if (student.empty()) student = tiny;
    if (predictor.empty()) predictor = tiny;
  }

  // The eval length filter's tokenizer: the weak model's (the student), as the reference's run script.
  fs::path length_tokenizer = c.length_tokenizer;
  // compat = "reference" also needs it for evaluate's context limit (6,124 tokens of the simulator, run
  // here with the student's tokenizer as the length filter).
  if ((c.eval_max_tokens > 0 || reference) && length_tokenizer.empty()) {
    const std::string local = "local:";
    if (student.rfind(local, 0) != 0)
      throw util::Error(
          std::string(c.eval_max_tokens > 0 ? "eval_max_tokens"
                                            : "compat = \"reference\" (evaluate's context limit)") +
              " needs length_tokenizer when the student is not a local model",
          {.file = c.config_file.string(), .field = "run.length_tokenizer"});
    std::string dir = student.substr(local.size());
    length_tokenizer = dir.substr(0, dir.find('?'));
  }

  // ---- prepare and scenes ----
  for (const auto& d : c.datasets) {
    std::vector<fs::path> raws = {c.work / data::user_file(d.name), c.work / data::item_file(d.name),
                                  c.work / data::interaction_file(d.name)};
    Fingerprint fp;
    fp.add("dataset", d.name).add_file("raw", d.raw);
    if (reference) fp.add("compat", "reference");  // absent by default: existing work dirs stay valid
    stage(c, report, "prepare/" + d.name, fp, raws, [&] {
      data::PrepareResult r =
          data::prepare({.dataset = d.name, .raw_dir = d.raw, .work_dir = c.work, .compat = c.compat});
      summary.count("interactions prepared", r.interactions);
    });
    Fingerprint raws_fp;
    for (const auto& p : raws) raws_fp.add_file(p.filename().string(), p);

    for (const std::string split : {"eval", "train"}) {
      bool eval = split == "eval";
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
      fs::path out = scenes_path(c.work, d.name, split);
      Fingerprint sfp = raws_fp;
      sfp.add("split", split)
          .add("samples", static_cast<int64_t>(o.samples))
          .add("min", static_cast<int64_t>(o.shape.min_options))
          .add("max", static_cast<int64_t>(o.shape.max_options))
          .add("seed", static_cast<int64_t>(c.seed));
      if (!eval) sfp.add_file("eval", scenes_path(c.work, d.name, "eval"));
      if (reference) sfp.add("compat", "reference");
      if (eval && c.eval_max_tokens > 0) {  // docs/method.md §3.6
        o.max_tokens = static_cast<size_t>(c.eval_max_tokens);
        o.tokenizer = length_tokenizer;
        o.system_prompt_text = system_prompt;
        sfp.add("max_tokens", c.eval_max_tokens)
            .add("prompt", system_prompt)
            .add_file("tokenizer", length_tokenizer / "tokenizer.json")
            .add_file("tokenizer_config", length_tokenizer / "tokenizer_config.json");
      }
      stage(c, report, "scenes/" + d.name + "/" + split, sfp, {out}, [&] {
        scene::ScenesReport r = scene::run_scenes(o);
        summary.count(split + " scenes", r.written);
      });
    }
  }

  std::map<std::string, std::unique_ptr<backend::Backend>> backends;
  auto get_backend = [&](const std::string& spec) -> backend::Backend& {
    auto& slot = backends[spec];
    if (!slot) slot = backend::make_backend(spec);
    return *slot;
  };

  // ---- decide and score ----
  for (const auto& d : c.datasets) {
    for (const std::string variant : {"strong", "weak"}) {
      const std::string& spec = variant == "strong" ? teacher : student;
      fs::path dec = decisions_path(c.work, d.name, variant);
      Fingerprint fp;
      fp.add("backend", spec)
          .add("n", c.decide.n)
          .add("temperature", c.decide.temperature)
          .add("top_p", c.decide.top_p)
          .add("max_tokens", c.decide.max_tokens)
          .add("seed", static_cast<int64_t>(c.seed))
          .add("prompt", system_prompt)
          .add_file("train", scenes_path(c.work, d.name, "train"));
      stage(
          c, report, "decide/" + d.name + "/" + variant, fp, {dec},
          [&] {
            DecideOptions o{.work = c.work,
                            .dataset = d.name,
                            .variant = variant,
                            .system_prompt = system_prompt,
                            .n = static_cast<int>(c.decide.n),
                            .temperature = c.decide.temperature,
                            .top_p = c.decide.top_p,
                            .max_tokens = static_cast<int>(c.decide.max_tokens),
                            .seed = c.seed};
            StageCounts k = run_decide(get_backend(spec), o);
            summary.count("decide requests sent", static_cast<uint64_t>(k.sent));
            summary.count("decide answers reused", static_cast<uint64_t>(k.reused));
            summary.count("tokens (decide)", static_cast<uint64_t>(k.tokens));
          },
          [&] { remove_if_exists(store_path_for(dec)); });

      fs::path probs = probs_path(c.work, d.name, variant);
      Fingerprint pfp;
      pfp.add("backend", predictor).add("prompt", system_prompt).add_file("decisions", dec);
      stage(
          c, report, "score/" + d.name + "/" + variant, pfp, {probs},
          [&] {
            ScoreOptions o{
                .work = c.work, .dataset = d.name, .variant = variant, .system_prompt = system_prompt};
            StageCounts k = run_score(get_backend(predictor), o);
            summary.count("score requests sent", static_cast<uint64_t>(k.sent));
            summary.count("score answers reused", static_cast<uint64_t>(k.reused));
          },
          [&] { remove_if_exists(store_path_for(probs)); });
    }
  }

  // ---- distil ----
  DistilOptions dopt;
  dopt.work_dir = c.work;
  for (const auto& d : c.datasets) dopt.datasets.push_back(d.name);
  dopt.name = c.distil.name;
  dopt.select = c.distil.select;
  dopt.filter_column = c.distil.filter_column;
  dopt.sampling_column = c.distil.sampling_column;
  dopt.ascending = c.distil.ascending;
  dopt.seed = c.seed;
  dopt.system_prompt_file = prompt_file;
  dopt.threads = c.threads;
  dopt.compat = c.compat;
  const DistilFiles distilled = distil_files(c.work, c.distil.name);
  fs::path pref = distilled.pref;
  fs::path sft = distilled.sft;
  fs::path metrics = distilled.metrics;
  {
    Fingerprint fp;
    fp.add("name", c.distil.name)
        .add("select", c.distil.select)
        .add("filter", c.distil.filter_column)
        .add("sampling", c.distil.sampling_column)
        .add("ascending", std::string(c.distil.ascending ? "1" : "0"))
        .add("seed", static_cast<int64_t>(c.seed))
        .add("prompt", system_prompt);
    if (reference) fp.add("compat", "reference");
    for (const auto& d : c.datasets) {
      fp.add_file("train/" + d.name, scenes_path(c.work, d.name, "train"));
      fp.add_file("strong/" + d.name, probs_path(c.work, d.name, "strong"));
      fp.add_file("weak/" + d.name, probs_path(c.work, d.name, "weak"));
    }
    stage(c, report, "distil", fp, {pref, sft, metrics}, [&] {
      DistilResult r = run_distil(dopt);
      summary.count("preference pairs", static_cast<uint64_t>(r.pairs));
    });
  }

  // ---- train ----
  std::string simulator = student;
  if (c.train.enabled) {
    if (!hooks.train || !hooks.trained_model_dir)
      throw util::Error("training is not available in this build", {.field = "train.enabled"});
    fs::path model_dir = hooks.trained_model_dir(c);
    Fingerprint fp;
    fp.add("student", student)
        .add("sft_steps", c.train.sft_steps)
        .add("dpo_steps", c.train.dpo_steps)
        .add("lora_rank", c.train.lora_rank)
        .add("seed", static_cast<int64_t>(c.seed))
        .add_file("sft", sft)
        .add_file("pref", pref);
    if (reference) fp.add("compat", "reference");
    stage(c, report, "train", fp, {model_dir}, [&] { hooks.train(c, sft, pref, student); });
    simulator = "local:" + model_dir.string();
  }

  // ---- evaluate ----
  if (c.evaluate.enabled) {
    for (const auto& mode : c.evaluate.modes) {
      EvaluateOptions o;
      o.work = c.work;
      for (const auto& d : c.datasets) o.inputs.push_back(scenes_path(c.work, d.name, "eval"));
      o.mode = mode;
      o.system_prompt = mode == "direct" ? direct_prompt : system_prompt;
      o.repeats = static_cast<int>(c.evaluate.repeats);
      o.max_tokens = static_cast<int>(c.evaluate.max_tokens);
      o.seed = c.seed;
      o.out_dir = c.work / "eval" / mode;
      o.compat = c.compat;
      if (context_limit(o) > 0) o.context_tokenizer = length_tokenizer;
      Fingerprint fp;
      fp.add("backend", simulator)
          .add("mode", mode)
          .add("prompt", o.system_prompt)
          .add("repeats", c.evaluate.repeats)
          .add("max_tokens", c.evaluate.max_tokens)
          .add("seed", static_cast<int64_t>(c.seed));
      if (reference) fp.add("compat", "reference");
      for (const auto& in : o.inputs) fp.add_file(in.filename().string(), in);
      if (c.train.enabled) fp.add_file("pref", pref);
      stage(
          c, report, "evaluate/" + mode, fp, {o.out_dir / "report.json"},
          [&] {
            EvaluateResult r = run_evaluate(get_backend(simulator), o);
            summary.set("hit rate (" + mode + ")", fmt::format("{:.4f}", r.expected_hit_rate));
          },
          [&] { remove_if_exists(o.out_dir / "predictions.store.jsonl"); });
    }
  }
  // ---- arena ----
  if (c.arena.enabled) {
    if (!hooks.arena)
      throw util::Error("the arena is not available in this build", {.field = "arena.enabled"});
    const std::string arena_simulator = c.arena.simulator.empty() ? simulator : c.arena.simulator;
    for (const auto& protocol : c.arena.protocols) {
      const fs::path out = c.work / "arena" / protocol;
      Fingerprint fp;
      fp.add("simulator", arena_simulator)
          .add("dataset", c.arena.dataset)
          .add("mode", c.arena.mode)
          .add("prompt", c.arena.mode == "direct" ? direct_prompt : system_prompt)
          .add("users", c.arena.users)
          .add("page_size", c.arena.page_size)
          .add("rounds", c.arena.rounds)
          .add("split", c.arena.split)
          .add("seed", static_cast<int64_t>(c.seed));
      for (const auto& r : c.arena.recommenders) fp.add("recommender", r);
      fp.add_file("interactions", c.work / data::interaction_file(c.arena.dataset));
      if (c.train.enabled) fp.add_file("pref", pref);
      stage(
          c, report, "arena/" + protocol, fp, {out / "report.json"},
          [&] { hooks.arena(c, protocol, arena_simulator, summary); },
          [&] { remove_if_exists(out / "requests.store.jsonl"); });
    }
  }
  return report;
}

}  // namespace um::pipeline
