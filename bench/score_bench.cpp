// Throughput of the score stage (pipeline::run_score: the option distribution after each
// "<rationale>\nBehavior: [") in (scene, rationale) pairs per second, on the embedded engine
// (`local:` backend), with the prefix cache on (the scene's system + user prefix is computed once and
// shared by its rationales) and off (prefix_cache=0: every pair is prefilled from scratch).
//
// Models: a tiny random qwen2 (2 layers, hidden 64) and a random model shaped like Qwen2.5-0.5B
// (24 layers, hidden 896, bf16; the one bench/model_forward_bench writes), both with the Qwen3
// tokenizer from ../shared ($UM_SHARED_DIR overrides). Inputs: synthetic train scenes with 2–5 options
// and 10 rationales of 800 characters per scene (distil::write_synthetic_score_inputs) under
// $TMPDIR/um-score-bench; the 0.5B rows score only 2 scenes (20 pairs) to stay short. Each iteration
// scores every pair of the strong decisions file from an empty request store.
// Run with OMP_WAIT_POLICY=PASSIVE in the environment, e.g.
//   OMP_WAIT_POLICY=PASSIVE UM_NO_PROGRESS=1 build/bench/score_bench
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "backend/backend.h"
#include "distil/scene_messages.h"
#include "model/init.h"
#include "pipeline/llm_stages.h"
#include "support/synthetic_inputs.h"

namespace {
namespace fs = std::filesystem;
using namespace um;

fs::path shared_dir() {
  const char* shared = std::getenv("UM_SHARED_DIR");
  return shared ? fs::path(shared) : fs::path(__FILE__).parent_path() / "../../shared";
}

fs::path model_dir(bool big) {
  const char* env = big ? std::getenv("UM_BENCH_MODEL_DIR") : nullptr;
  fs::path dir = env   ? fs::path(env)
                 : big ? fs::path("/tmp/um-bench/qwen2.5-0.5b-shape")
                       : fs::temp_directory_path() / "um-score-bench" / "tiny-qwen2";
  if (fs::exists(dir / "config.json")) return dir;
  model::InitOptions o;
  o.arch = "qwen2";
  if (big) {
    o.layers = 24;
    o.hidden = 896;
    o.heads = 14;
    o.kv_heads = 2;
    o.intermediate = 4864;
    o.vocab = 151936;
    o.tie_embeddings = true;
    o.seed = 1;
  } else {
    o.layers = 2;
    o.hidden = 64;
    o.heads = 4;
    o.kv_heads = 2;
  }
  o.dtype = "bf16";
  o.tokenizer_dir = shared_dir() / "tokenizers/qwen3";
  o.out_dir = dir;
  std::cerr << "writing benchmark model to " << dir << "\n";
  model::init_random_model(o);
  return dir;
}

fs::path work_dir(int64_t scenes) {
  const fs::path work = fs::temp_directory_path() / "um-score-bench" / ("work-" + std::to_string(scenes));
  if (!fs::exists(distil::decisions_path(work, "bench", "strong"))) {
    distil::SyntheticSpec spec;
    spec.scenes = scenes;
    spec.rationales = 10;
    spec.rationale_chars = 800;
    spec.min_options = 2;
    spec.max_options = 5;
    distil::write_synthetic_score_inputs(work, "bench", spec);
  }
  return work;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// Args: model (0 = tiny, 1 = 0.5B shape), prefix cache entries (0 = off), scenes.
void BM_Score(benchmark::State& state) {
  const bool big = state.range(0) != 0;
  const fs::path work = work_dir(state.range(2));
  auto be = backend::make_backend("local:" + model_dir(big).string() +
                                  "?prefix_cache=" + std::to_string(state.range(1)));
  pipeline::ScoreOptions o;
  o.work = work;
  o.dataset = "bench";
  o.variant = "strong";
  o.system_prompt = distil::load_system_prompt("", fs::path(__FILE__).parent_path() / "../prompts");
  const fs::path probs = distil::probs_path(work, "bench", "strong");
  int64_t pairs = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove(probs);
    fs::remove(pipeline::store_path_for(probs));
    state.ResumeTiming();
    const double cpu0 = process_cpu_seconds();
    const pipeline::StageCounts c = pipeline::run_score(*be, o);
    cpu += process_cpu_seconds() - cpu0;
    if (c.sent != c.requests || c.failed != 0) state.SkipWithError("not every pair was scored");
    pairs += c.sent;
  }
  state.counters["pairs"] = static_cast<double>(pairs) / static_cast<double>(state.iterations());
  state.counters["pairs_per_s"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_pair"] = cpu / static_cast<double>(pairs);
}

}  // namespace

BENCHMARK(BM_Score)
    ->ArgNames({"model_0.5b", "prefix_cache", "scenes"})
    ->Args({0, 8, 16})
    ->Args({0, 0, 16})
    ->Args({1, 8, 2})
    ->Args({1, 0, 2})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_MAIN();
