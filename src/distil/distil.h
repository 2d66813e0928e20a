#pragma once
// The distil stage (docs/method.md §8): from train scenes and the teacher/student probs files to
// preference pairs, an SFT file and a per-scene metrics table.
//
//   DistilOptions o;
//   o.work_dir = "work"; o.datasets = {"ml-1m"}; o.name = "UserMirrorer";
//   o.system_prompt_file = "reasoning-v1";     // a prompt name (prompts/) or a file path
//   DistilResult r = run_distil(o);
//
// Reads  <work>/datasets/<DS>_train.jsonl, <work>/probs/<DS>_probs_{strong,weak}.jsonl
// Writes <work>/datasets/<name>_pref.jsonl, <name>_sft.jsonl, <name>_scene_metrics.jsonl (atomically).
// Two passes. Pass 1 reads the three files once, in batches of lines parsed in place, and keeps a
// few numbers per scene (metrics, picks, where the picked texts lie). Pass 2 reads back only the
// selected scenes' train lines and picked rationale strings (plain files; gzip files are read again
// in full). Memory is O(#scenes) numbers plus one batch of lines per file.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/compat.h"
#include "distil/distil_select.h"
#include "distil/work_layout.h"

namespace um::distil {

struct DistilOptions {
  std::filesystem::path work_dir;
  std::vector<std::string> datasets;
  std::string name = "UserMirrorer";
  int64_t select = 10000;                                // filtered_num
  std::string filter_column = "diff_model_uncertainty";  // a §8.3 column or "random"
  std::string sampling_column = "entropy";               // entropy | logloss | random
  bool ascending = false;
  uint64_t seed = 0;
  // Unset: the compat default (proportional; reference with Compat::reference).
  std::optional<Allocation> allocation;
  // Compat::reference: the reference's allocation by default, and behaviours sampled over at least
  // the 5 letters A–E (phantom letters of C < 5 carry the 1e-10 floor, §11.21).
  data::Compat compat = data::Compat::usermirror;
  // System prompt of the training messages: a file path, or a prompt name (text/prompt_store.h);
  // empty = reasoning-v1. It must be the prompt the rationales were generated with.
  std::filesystem::path system_prompt_file;
  std::optional<std::filesystem::path> prompts_dir;
  unsigned threads = 0;  // 0 = all cores
  bool progress = true;
};

struct DistilResult {
  int64_t scenes = 0;                      // train rows read
  std::map<std::string, int64_t> dropped;  // reason → scenes
  int64_t candidates = 0;                  // scenes with a chosen and a rejected rationale
  int64_t pairs = 0;                       // written preference pairs
  int64_t rejected_from_weak = 0;          // pairs whose rejected rationale is the student's
  std::vector<GroupAllocation> groups;
  std::filesystem::path pref_file, sft_file, metrics_file;
};

// Throws util::Error (with file/line/field) on malformed input, misaligned files or bad options.
DistilResult run_distil(const DistilOptions& options);

}  // namespace um::distil
