#pragma once
// The LLM part of `evaluate` (docs/method.md §10): the simulator's option distributions on eval scenes,
// in direct mode (direct system prompt, assistant prefix "Behavior: [") or reasoning mode
// (assistant prefix "Thought:\nStimulus:", `repeats` sampled continuations stopped at
// "Behavior: [", each re-closed and scored). Writes the reference's output table
// (<out_dir>/predictions.jsonl: input fields + messages, choice, intent_list) and the metrics
// report (<out_dir>/report.json, report.md) computed by evaluate_scenes().
//
// Resumable like decide/score: answers go to <out_dir>/predictions.store.jsonl as they arrive.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "data/compat.h"
#include "pipeline/llm_stage.h"

namespace um::pipeline {

struct EvaluateOptions {
  std::filesystem::path work;
  std::vector<std::filesystem::path> inputs;  // scene files (ours or the released eval set)
  std::string mode = "reasoning";             // "direct" | "reasoning"
  std::string system_prompt;                  // direct prompt in direct mode, reasoning prompt otherwise
  int repeats = 3;                            // reasoning mode: continuations per scene
  int max_tokens = 1024;
  double temperature = 1.0;  // §10: generation temperature 1.0, top_p 0.8
  double top_p = 0.8;
  uint64_t seed = 0;
  std::filesystem::path out_dir;
  SkipBudget budget;
  int64_t bootstrap = 1000;  // bootstrap resamples for confidence intervals
  // Context limit (docs/method.md §10: the reference's run_eval skips scenes longer than 6,124 tokens,
  // max_context_length, and scores them uniform): a scene whose messages (system, user and the mode's
  // assistant prefix), rendered with `context_tokenizer`'s chat template and tokenised, exceed
  // max_context tokens is not sent to the backend; it counts as uniform (without_prediction).
  // 0 = off; unset = the compat default (off; kReferenceMaxContext with Compat::reference).
  std::optional<size_t> max_context;
  std::filesystem::path context_tokenizer;  // a Hugging Face tokenizer folder
  data::Compat compat = data::Compat::usermirror;
};

// The reference's hard-coded max_context_length (run_eval).
inline constexpr size_t kReferenceMaxContext = 6124;
// The context limit in force: max_context when set, else the compat default.
inline size_t context_limit(const EvaluateOptions& o) {
  return o.max_context.value_or(o.compat == data::Compat::reference ? kReferenceMaxContext : 0);
}

struct EvaluateResult {
  int64_t scenes = 0;
  double expected_hit_rate = 0;  // mean probability of the true option
  int64_t over_context = 0;      // scenes skipped by max_context (scored uniform)
  std::filesystem::path predictions, report_json, report_md;
  bool figures = false;  // reliability.png and datasets.png written
};

// Draws reliability.png and datasets.png beside the report with scripts/plot_eval_report.py
// (Debian's python3-matplotlib). Returns false, with a message on stderr, when that is unavailable.
bool render_report_figures(const std::filesystem::path& report_json, const std::filesystem::path& out_dir);
// Runs scripts/<script_name> REPORT_JSON OUT_DIR with /usr/bin/python3 (figures of a report); false,
// with a message on stderr, when the interpreter or the script is missing or the script fails.
bool run_plot_script(const std::string& script_name, const std::filesystem::path& report_json,
                     const std::filesystem::path& out_dir);

EvaluateResult run_evaluate(backend::Backend& be, const EvaluateOptions& opts);

}  // namespace um::pipeline
