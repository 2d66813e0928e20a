#include <chrono>
#include <functional>
#include <unordered_set>

#include "data/dataset_io.h"
#include "scene/scene.h"
#include "scene/scene_paths.h"
#include "text/prompt_store.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/thread_pool.h"

namespace um::scene {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void build_scenes(const SceneGenerator& gen, const std::vector<uint32_t>& targets, unsigned threads,
                  const std::function<void(const SceneOutcome&)>& sink,
                  const std::function<void(size_t)>& progress, const LengthFilter* filter) {
  constexpr size_t kChunk = 4096;  // bounds memory: only one chunk of rendered scenes is held
  std::vector<SceneOutcome> chunk;
  for (size_t start = 0; start < targets.size(); start += kChunk) {
    size_t n = std::min(kChunk, targets.size() - start);
    chunk.assign(n, SceneOutcome{});
    gen.prefetch(std::vector<uint32_t>(targets.begin() + static_cast<std::ptrdiff_t>(start),
                                       targets.begin() + static_cast<std::ptrdiff_t>(start + n)),
                 threads);
    util::parallel_for(n, threads, [&](size_t i) {
      chunk[i] = gen.build(start + i, targets[start + i]);
      if (filter && chunk[i].record && !filter->keep(chunk[i].record->text)) {
        chunk[i].record.reset();
        chunk[i].skip_reason = "longer than " + std::to_string(filter->max_tokens()) + " tokens";
      }
    });
    for (const auto& o : chunk) sink(o);
    if (progress) progress(n);
  }
}

ScenesReport run_scenes(const ScenesOptions& o) {
  if (o.split != "eval" && o.split != "train") {
    throw util::Error("--split must be 'eval' or 'train', got '" + o.split + "'", {.field = "split"});
  }
  ScenesReport rep;
  auto t0 = std::chrono::steady_clock::now();
  data::Dataset ds = data::load_dataset(o.work, o.dataset);
  rep.load_seconds = since(t0);
  rep.interactions = ds.interactions.size();

  std::vector<std::string> eval_users;
  bool restrict = false;
  auto eval_path = scenes_path(o.work, o.dataset, "eval");
  if (o.split == "train" && o.use_eval_users && std::filesystem::exists(eval_path)) {
    std::unordered_set<std::string> seen;
    for (auto& r : read_scene_file(eval_path)) {
      if (seen.insert(r.user_id).second) eval_users.push_back(r.user_id);
    }
    restrict = true;
    rep.eval_users = eval_users.size();
  }

  auto t1 = std::chrono::steady_clock::now();
  SceneConfig cfg = o;
  if (cfg.work.empty()) cfg.work = o.work;
  SceneGenerator gen(ds, cfg);
  rep.scorers = gen.scorer_names();
  rep.real_impressions = gen.real_impressions();
  rep.unknown_id_interactions = gen.index().num_invalid();
  auto targets = gen.sample_targets(restrict ? &eval_users : nullptr, &rep.candidates);
  rep.sampled = targets.size();
  rep.setup_seconds = since(t1);

  std::unique_ptr<LengthFilter> filter;
  if (o.max_tokens > 0) {
    if (o.tokenizer.empty()) {
      throw util::Error("--max-tokens needs --tokenizer DIR (a Hugging Face tokenizer directory)",
                        {.field = "tokenizer"});
    }
    filter = std::make_unique<LengthFilter>(
        o.tokenizer, o.system_prompt_text.empty() ? text::load_prompt(o.system_prompt) : o.system_prompt_text,
        o.max_tokens);
    rep.max_tokens = o.max_tokens;
  }

  auto t2 = std::chrono::steady_clock::now();
  rep.output = o.output.empty() ? scenes_path(o.work, o.dataset, o.split) : o.output;
  std::filesystem::create_directories(rep.output.parent_path());
  util::AtomicWriter out(rep.output);
  std::string line;
  util::JsonWriter w(/*ascii=*/true);  // non-ASCII as \uXXXX, like pandas
  std::unique_ptr<util::Progress> bar;
  if (o.progress)
    bar = std::make_unique<util::Progress>("scenes " + o.dataset + " " + o.split, targets.size(), "scene");
  build_scenes(
      gen, targets, o.threads,
      [&](const SceneOutcome& oc) {
        rep.dropped_static_history += oc.dropped_static_history;
        if (!oc.record) {
          rep.skips[oc.skip_reason]++;
          return;
        }
        w.clear();
        write_scene(w, *oc.record, o.with_impressions);
        line.assign(w.str());
        line.push_back('\n');
        out.write(line);
        rep.written++;
        if (o.on_line) o.on_line(line);
      },
      [&](size_t n) {
        if (bar) bar->add(n);
      },
      filter.get());
  if (bar) bar->finish();
  out.commit();
  rep.build_seconds = since(t2);
  return rep;
}

}  // namespace um::scene
