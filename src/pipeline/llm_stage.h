#pragma once
// The shared machinery of the LLM stages (decide, score, evaluate): reading scene files, running
// keyed requests through a backend with a resumable RequestStore, and the skip budget.
//
// Requests go to the backend in chunks; each answer is appended to the store as it arrives, so a
// killed stage loses at most the requests in flight, and a rerun sends only keys without a stored
// answer. Final files are rebuilt from the store in record order, so they are byte-identical to
// an uninterrupted run's whatever the completion order or restart points.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/request_store.h"
#include "distil/reference_io.h"
#include "scene/scene_record.h"
#include "util/progress.h"

namespace um::pipeline {

// The request store kept beside a stage's final file: <name>.store.jsonl.
std::filesystem::path store_path_for(const std::filesystem::path& final_path);
// key -> parsed value of every record in a store (empty when the file does not exist).
std::map<std::string, nlohmann::json> load_store(const std::filesystem::path& path, const std::string& stage);

// Reads every scene of a datasets/<DS>_{train,eval}.jsonl file, with text (scene::read_scene_file);
// a missing file is an error that says which command makes it.
std::vector<scene::SceneRecord> read_scenes(const std::filesystem::path& path);

// The stored value of a generation: {"contents": [the samples' texts]} (decide adds "tokens").
nlohmann::json contents_value(const backend::GenerateResult& result);

// How many requests may fail (after the backend's own retries) before the stage fails; failed
// requests are counted in the summary and retried by the next run. Default 0: fail on the first.
struct SkipBudget {
  int64_t max_failures = 0;
};

// Sends `requests` (whose keys are not yet in `store`) in chunks of `chunk`, storing each answer
// via `to_json` and advancing `progress`. Throws util::Error (naming the first failed key) when
// more than budget.max_failures requests fail; returns the number that failed.
int64_t run_generate(backend::Backend& be, std::vector<backend::GenerateRequest> requests,
                     backend::RequestStore& store,
                     const std::function<std::string(const backend::GenerateResult&)>& to_json,
                     util::Progress& progress, const SkipBudget& budget, size_t chunk = 64);
int64_t run_options(backend::Backend& be, std::vector<backend::OptionRequest> requests,
                    backend::RequestStore& store,
                    const std::function<std::string(const backend::OptionResult&)>& to_json,
                    util::Progress& progress, const SkipBudget& budget, size_t chunk = 256);

}  // namespace um::pipeline
