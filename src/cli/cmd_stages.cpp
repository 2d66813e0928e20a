// The LLM stages as commands: `usermirror decide|score|evaluate --work DIR ...` (pipeline/llm_stages.h,
// pipeline/evaluate_stage.h), over any backend spec.
#ifdef UM_HAVE_PIPELINE
#include <fmt/format.h>

#include "backend/backend.h"
#include "cli/command_registry.h"
#include "pipeline/evaluate_stage.h"
#include "pipeline/llm_stages.h"
#include "text/prompt_store.h"
#include "util/progress.h"

namespace um::cli {
namespace fs = std::filesystem;

namespace {

struct CommonStageOptions {
  fs::path work;
  std::string backend;
  std::string prompt;
  fs::path prompts_dir;
  int64_t max_failures = 0;
  void add(CLI::App& app, const std::string& default_prompt) {
    prompt = default_prompt;
    app.add_option("--work", work, "Work directory (reference layout)")->required();
    app.add_option("--backend", backend,
                   "Backend spec: local:DIR or openai:URL[,URL]?model=NAME&concurrency=N")
        ->required();
    app.add_option("--prompt", prompt, "System prompt name (prompts/<name>.txt)")->capture_default_str();
    app.add_option("--prompts-dir", prompts_dir, "Extra folder searched first for prompts");
    app.add_option("--max-failures", max_failures, "Skip budget: requests allowed to fail (retried next run)")
        ->capture_default_str();
  }
  std::string load_prompt() const {
    std::optional<fs::path> dir;
    if (!prompts_dir.empty()) dir = prompts_dir;
    return text::load_prompt(prompt, dir);
  }
};

void print_counts(const std::string& name, const pipeline::StageCounts& k) {
  util::Summary s(name);
  s.count("scenes in", static_cast<uint64_t>(k.records_in));
  s.count("requests needed", static_cast<uint64_t>(k.requests));
  s.count("answers reused", static_cast<uint64_t>(k.reused));
  s.count("requests sent", static_cast<uint64_t>(k.sent));
  s.count("records out", static_cast<uint64_t>(k.records_out));
  if (k.tokens) s.count("tokens", static_cast<uint64_t>(k.tokens));
  if (k.failed) s.skip("request failed (skip budget)", static_cast<uint64_t>(k.failed));
  s.print("requests sent");
}

}  // namespace

Command decide_command() {
  return {
      "decide", "Teacher/student rationales for train scenes → decisions/<DS>_decisions_<variant>.jsonl",
      [](CLI::App& app) {
        auto common = std::make_shared<CommonStageOptions>();
        auto o = std::make_shared<pipeline::DecideOptions>();
        common->add(app, "reasoning-v1");
        app.add_option("--dataset", o->dataset, "Dataset name")->required();
        app.add_option("--variant", o->variant, "strong (teacher) | weak (student)")
            ->required()
            ->check(CLI::IsMember({"strong", "weak"}));
        app.add_option("-n,--n", o->n, "Rationales per scene")->capture_default_str();
        app.add_option("--temperature", o->temperature, "Sampling temperature")->capture_default_str();
        app.add_option("--top-p", o->top_p, "Nucleus sampling")->capture_default_str();
        app.add_option("--max-tokens", o->max_tokens, "Maximum tokens per rationale")->capture_default_str();
        app.add_option("--seed", o->seed, "Seed of the per-scene sampling streams")->capture_default_str();
        return [=] {
          pipeline::DecideOptions opts = *o;
          opts.work = common->work;
          opts.system_prompt = common->load_prompt();
          opts.budget.max_failures = common->max_failures;
          auto be = backend::make_backend(common->backend);
          print_counts("decide " + opts.dataset + " " + opts.variant, pipeline::run_decide(*be, opts));
          return 0;
        };
      }};
}

Command score_command() {
  return {"score", "Predictor option distributions after each rationale → probs/<DS>_probs_<variant>.jsonl",
          [](CLI::App& app) {
            auto common = std::make_shared<CommonStageOptions>();
            auto o = std::make_shared<pipeline::ScoreOptions>();
            common->add(app, "reasoning-v1");
            app.add_option("--dataset", o->dataset, "Dataset name")->required();
            app.add_option("--variant", o->variant, "strong | weak: which decisions to score")
                ->required()
                ->check(CLI::IsMember({"strong", "weak"}));
            return [=] {
              pipeline::ScoreOptions opts = *o;
              opts.work = common->work;
              opts.system_prompt = common->load_prompt();
              opts.budget.max_failures = common->max_failures;
              auto be = backend::make_backend(common->backend);
              print_counts("score " + opts.dataset + " " + opts.variant, pipeline::run_score(*be, opts));
              return 0;
            };
          }};
}

Command evaluate_command() {
  return {"evaluate", "Simulator accuracy and calibration on eval scenes (direct or reasoning mode)",
          [](CLI::App& app) {
            auto common = std::make_shared<CommonStageOptions>();
            auto o = std::make_shared<pipeline::EvaluateOptions>();
            auto datasets = std::make_shared<std::vector<std::string>>();
            common->add(app, "");
            app.add_option("--input", o->inputs, "Eval scene files or '-' (ours or the released eval set)");
            app.add_option("--datasets", *datasets, "Datasets whose WORK/datasets/<DS>_eval.jsonl to use")
                ->delimiter(',');
            app.add_option("--mode", o->mode, "direct | reasoning")
                ->capture_default_str()
                ->check(CLI::IsMember({"direct", "reasoning"}));
            app.add_option("--repeats", o->repeats, "Reasoning mode: continuations per scene")
                ->capture_default_str();
            app.add_option("--max-tokens", o->max_tokens, "Reasoning mode: maximum tokens per continuation")
                ->capture_default_str();
            app.add_option("--seed", o->seed, "Seed of the sampling and bootstrap streams")
                ->capture_default_str();
            app.add_option("--bootstrap", o->bootstrap, "Bootstrap resamples for confidence intervals")
                ->capture_default_str();
            app.add_option("--out", o->out_dir, "Output folder (default WORK/eval/<mode>)");
            app.add_option("--max-context", o->max_context,
                           "Score scenes longer than N tokens (messages with the chat template) as uniform "
                           "without asking the model, as the reference (6124); 0 = off")
                ->default_str("0; 6124 with --compat reference");
            auto compat = std::make_shared<std::string>("usermirror");
            app.add_option("--compat", *compat,
                           "usermirror | reference: the reference's context limit (6124) by default "
                           "(docs/reference-differences.md); an explicit --max-context wins")
                ->check(CLI::IsMember({"usermirror", "reference"}))
                ->capture_default_str();
            app.add_option(
                "--context-tokenizer", o->context_tokenizer,
                "Tokenizer folder for --max-context (default: the model folder of a local: backend)");
            return [=] {
              pipeline::EvaluateOptions opts = *o;
              opts.compat = data::parse_compat(*compat);
              const size_t max_context = pipeline::context_limit(opts);
              if (max_context > 0 && opts.context_tokenizer.empty()) {
                const std::string local = "local:";
                if (common->backend.rfind(local, 0) != 0)
                  throw util::Error("--max-context needs --context-tokenizer with a non-local backend",
                                    {.field = "context-tokenizer"});
                const std::string dir = common->backend.substr(local.size());
                opts.context_tokenizer = dir.substr(0, dir.find('?'));
              }
              opts.work = common->work;
              for (const auto& d : *datasets)
                opts.inputs.push_back(distil::scenes_path(opts.work, d, "eval"));
              if (opts.inputs.empty())
                throw util::Error("give --input FILE or --datasets A,B", {.field = "input"});
              if (common->prompt.empty())
                common->prompt = opts.mode == "direct" ? "direct-v1" : "reasoning-v1";
              opts.system_prompt = common->load_prompt();
              opts.budget.max_failures = common->max_failures;
              if (opts.out_dir.empty()) opts.out_dir = opts.work / "eval" / opts.mode;
              auto be = backend::make_backend(common->backend);
              util::Summary s("evaluate " + opts.mode);
              pipeline::EvaluateResult r = pipeline::run_evaluate(*be, opts);
              s.count("scenes", static_cast<uint64_t>(r.scenes));
              if (max_context > 0)
                s.count("longer than " + std::to_string(max_context) + " tokens (scored uniform)",
                        static_cast<uint64_t>(r.over_context));
              s.set("expected hit rate", fmt::format("{:.4f}", r.expected_hit_rate));
              s.set("report", r.report_md.string());
              s.print("scenes");
              return 0;
            };
          }};
}

}  // namespace um::cli
#endif  // UM_HAVE_PIPELINE
