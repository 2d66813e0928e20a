#pragma once
// The LLM stages of the method over the reference's file layout:
//   decide (§6): n rationales per train scene from the teacher ("strong") or student ("weak")
//     → decisions/<DS>_decisions_<variant>.jsonl (OpenAI batch output lines);
//   score (§7): the predictor's option distribution after each rationale, re-closed as
//     "<rationale>\nBehavior: [" → probs/<DS>_probs_<variant>.jsonl.
// Both are resumable through a RequestStore beside their output (…_<variant>.store.jsonl): kill
// them anywhere, rerun, and the final file is byte-identical to an uninterrupted run's.
#include <cstdint>
#include <filesystem>
#include <string>

#include "backend/backend.h"
#include "distil/work_layout.h"
#include "pipeline/llm_stage.h"

namespace um::pipeline {

struct DecideOptions {
  std::filesystem::path work;
  std::string dataset;
  std::string variant;        // "strong" (teacher) | "weak" (student)
  std::string system_prompt;  // full text of the reasoning system prompt
  int n = 10;
  double temperature = 1.0;
  double top_p = 0.9;
  int max_tokens = 1024;
  uint64_t seed = 0;
  SkipBudget budget;
};

struct ScoreOptions {
  std::filesystem::path work;
  std::string dataset;
  std::string variant;  // which decisions file to score
  std::string system_prompt;
  SkipBudget budget;
};

struct StageCounts {
  int64_t records_in = 0;   // scenes read
  int64_t requests = 0;     // requests this stage needs in total
  int64_t reused = 0;       // answers found in the store (earlier, interrupted runs)
  int64_t sent = 0;         // requests sent in this run
  int64_t failed = 0;       // requests that failed within the skip budget
  int64_t records_out = 0;  // lines written to the final file
  int64_t tokens = 0;       // prompt + completion tokens reported by the backend (decide)
};

StageCounts run_decide(backend::Backend& be, const DecideOptions& opts);
StageCounts run_score(backend::Backend& be, const ScoreOptions& opts);

}  // namespace um::pipeline
