#pragma once
// One stage of `usermirror run` (docs/architecture.md, "… a pipeline stage"): a name, the parameters
// and input files its fingerprint is built from, the outputs its manifest records, and the work.
// The runner (runner.h) builds the list of a run's stages from its RunConfig (run_stages.h) and runs
// them in order with run_stage(), which skips a stage whose manifest says complete for its
// fingerprint (stage_manifest.h).
//
//   Stage s{.id = "distil", .outputs = {pref, sft}, .run = [&] { distil::run_distil(o); }};
//   s.param("seed", int64_t{0}).input("train/ml-1m", train_scenes);
//   bool ran = run_stage(work, s);
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/stage_manifest.h"

namespace um::pipeline {

// One entry of a stage's fingerprint: a parameter's value, or an input file whose content hash is
// taken when the fingerprint is built (so after the stages that write it have run).
struct FingerprintKey {
  std::string key;
  std::string value;           // the parameter's value (is_file = false)
  std::filesystem::path file;  // the input file or folder (is_file = true)
  bool is_file = false;
};

struct Stage {
  std::string id;  // "decide/<DS>/strong": the manifest's name (WORK/.stages/) and the log's
  // Parameters and input files, hashed in this order. Existing work folders stay valid only while a
  // stage adds the same keys in the same order: change them and every such stage reruns once.
  std::vector<FingerprintKey> keys;
  std::vector<std::filesystem::path> outputs;  // their sizes and hashes go into the manifest
  std::function<void()> run;
  // Discards partial state (a request store) left by an attempt with another fingerprint; may be empty.
  std::function<void()> reset;

  // Parameters are hashed as text: integers in decimal, doubles as Python's repr (Fingerprint::add).
  Stage& param(const std::string& key, const std::string& value);
  Stage& param(const std::string& key, int64_t value);
  Stage& param(const std::string& key, double value);
  Stage& input(const std::string& key, const std::filesystem::path& file);

  std::vector<std::filesystem::path> inputs() const;  // the file keys, in order
  // Hashes the parameters and the current content of the input files; throws util::Error when an
  // input file is missing.
  Fingerprint fingerprint() const;
};

// Runs `stage` unless WORK/.stages says it completed with its fingerprint and unchanged outputs;
// calls `reset` first when an earlier attempt had another fingerprint, records the outputs after
// `run`. Prints "[run] <id> running" or "... skipped: outputs complete". Returns true when it ran.
bool run_stage(const std::filesystem::path& work, const Stage& stage);

}  // namespace um::pipeline
