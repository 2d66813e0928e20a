#pragma once
// scene — simulation scenes (docs/method.md §3–4): per-dataset renderers, exposure sampling, and the
// scene-set files datasets/<DS>_eval.jsonl / <DS>_train.jsonl.
//
//   scene::ScenesOptions o;
//   o.work = "work"; o.dataset = "ml-1m"; o.split = "train";
//   o.samples = 1024; o.shape = {.min_options = 2, .max_options = 12};
//   scene::ScenesReport rep = scene::run_scenes(o);   // writes work/datasets/ml-1m_train.jsonl
//
// Lower level (in-memory, used by tests and other components):
//   scene::SceneGenerator gen(dataset, config);
//   for (auto [n, k] : enumerate(gen.sample_targets(nullptr))) gen.build(n, k);
//
// Determinism: every random choice comes from util::Rng::stream(seed, "scenes/<split>/<stage>",
// sample number), so the output bytes depend only on (data, options, seed), never on --threads.
// Errors: util::Error with file/line/field (missing template keys name the key); util::NotSupported
// for unknown datasets or scorers. Thread safety: SceneGenerator::build is const and thread-safe.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scene/features.h"
#include "scene/length_filter.h"
#include "scene/pystr.h"
#include "scene/scene_generator.h"
#include "scene/scene_record.h"
#include "scene/strategy.h"
#include "scene/template.h"

namespace um::scene {

struct ScenesOptions : SceneConfig {
  std::string dataset;
  std::filesystem::path output;   // default <work>/datasets/<DS>_<split>.jsonl
  bool use_eval_users = true;     // train split: only users of <DS>_eval.jsonl when it exists
  bool with_impressions = false;  // append impression_list to each record
  bool progress = true;
  // Token-length filter (§3.6), off when max_tokens == 0: drop scenes whose decision-generation
  // prompt (system prompt `system_prompt` + user message) exceeds max_tokens tokens of `tokenizer`.
  size_t max_tokens = 0;
  std::filesystem::path tokenizer;
  std::string system_prompt = "reasoning-v1";
  std::string system_prompt_text;  // when not empty, the prompt text itself (system_prompt ignored)
  // When set, called with each line written (with its '\n'), in file order, on the calling thread,
  // right after it is written (the Python package streams the scenes this way, docs/python.md).
  std::function<void(std::string_view line)> on_line;
};

struct ScenesReport {
  std::filesystem::path output;
  size_t interactions = 0;
  size_t candidates = 0;
  size_t sampled = 0;
  size_t written = 0;
  size_t eval_users = 0;  // users the train split was restricted to (0 = not restricted)
  uint64_t dropped_static_history = 0;
  size_t unknown_id_interactions = 0;  // ignored: user or item absent from the tables
  std::map<std::string, uint64_t> skips;
  std::vector<std::string> scorers;
  bool real_impressions = false;
  size_t max_tokens = 0;  // the length filter applied (0 = none)
  double load_seconds = 0, setup_seconds = 0, build_seconds = 0;
};

// Loads <work>/raws/<DS>_*, builds the scenes and writes the output file atomically.
ScenesReport run_scenes(const ScenesOptions& o);

// Builds scenes [0, targets.size()) and calls sink(outcome) in order, in chunks; scenes longer than
// `filter` allows become skips ("longer than N tokens"). Used by run_scenes and by tests.
void build_scenes(const SceneGenerator& gen, const std::vector<uint32_t>& targets, unsigned threads,
                  const std::function<void(const SceneOutcome&)>& sink,
                  const std::function<void(size_t)>& progress = {}, const LengthFilter* filter = nullptr);

}  // namespace um::scene
