#pragma once
// The two steps of reasoning-mode simulation (docs/method.md §10) over a resumable RequestStore, in
// one place for evaluate (one record per scene) and the arena (one record per page):
//   step 1  `repeats` continuations of "Thought:\nStimulus:" per record, stored under
//           "<key>/gen" as {"contents": [...]};
//   step 2  one option request per stored continuation, "<key>/p<r>" (direct mode asks "<key>/p0").
//
//   std::vector<ReasoningRecord> records = ...;  // key, scene text, options, seed
//   run_reasoning_generate(be, records, store, settings, {"evaluate reasoning (generate)", "scenes"},
//   budget); auto generated = load_store(store_path, stage); auto requests =
//   reasoning_option_requests(records, generated, settings);
//
// Records whose "<key>/gen" is already stored are not asked again (a resumed run reuses them).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "backend/request_store.h"
#include "pipeline/llm_stage.h"
#include "text/prompt.h"

namespace um::pipeline {

// One simulated user asked in reasoning mode.
struct ReasoningRecord {
  std::string key;                        // the store keys are key + "/gen" and key + "/p<r>"
  const text::SceneText* text = nullptr;  // the scene the messages are built from
  size_t options = 0;                     // exposure length
  uint64_t seed = 0;                      // the generation seed (the caller's Rng stream)
};

struct ReasoningSettings {
  std::string_view system_prompt;
  int repeats = 1;  // continuations per record
  double temperature = 1.0;
  double top_p = 0.8;
  int max_tokens = 1024;
  // Attach backend::scene_shared_prefix to every request (the arena's page groups); evaluate's
  // requests carry no hint.
  bool shared_prefix = false;
};

// The store keys of a record: its generation and its r-th option distribution.
std::string generation_key(std::string_view key);
std::string option_key(std::string_view key, size_t r);

struct GenerateStepCounts {
  int64_t sent = 0;    // requests sent
  int64_t reused = 0;  // records whose generation was already stored
  int64_t failed = 0;  // requests that failed within the budget
};
struct ProgressLabel {
  std::string title;
  std::string unit;
};

// Step 1: sends the generation of every record without a stored "<key>/gen" through run_generate,
// with a progress bar of `label`. Throws as run_generate does when the budget is exceeded.
GenerateStepCounts run_reasoning_generate(backend::Backend& be, const std::vector<ReasoningRecord>& records,
                                          backend::RequestStore& store, const ReasoningSettings& settings,
                                          const ProgressLabel& label, const SkipBudget& budget);

// The continuations stored for `key` (load_store's map), empty when its generation is missing.
std::vector<std::string> stored_contents(const std::map<std::string, nlohmann::json>& stored,
                                         std::string_view key);

// Step 2: the option requests of every record whose generation is in `generated`, one per stored
// continuation, in record then continuation order (whether or not already answered in the store).
std::vector<backend::OptionRequest> reasoning_option_requests(
    const std::vector<ReasoningRecord>& records, const std::map<std::string, nlohmann::json>& generated,
    const ReasoningSettings& settings);

}  // namespace um::pipeline
