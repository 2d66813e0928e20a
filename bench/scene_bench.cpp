// Scene building on the real ml-1m files (../shared/data/ml-1m, 487,650 ratings): dataset load,
// collaborative embedding, and train-scene generation per 1,000 scenes, so the stages of
// `usermirror scenes` can be compared with the reference's (baseline in docs/benchmarks.md).
// End-to-end wall time / peak RSS / scaling per dataset: bench/scenes_scaling.sh.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "data/dataset_io.h"
#include "data/prepare.h"
#include "scene/exposure/collaborative_embedding.h"
#include "scene/scene.h"

namespace {

namespace fs = std::filesystem;
using namespace um;

// Prepared once per process into a temporary work directory.
const fs::path& work_dir() {
  static fs::path work = [] {
    fs::path root = fs::path(__FILE__).parent_path().parent_path();
    const char* env = std::getenv("UM_SHARED_DIR");
    fs::path shared = env ? fs::path(env) : root.parent_path() / "shared";
    fs::path w = fs::temp_directory_path() / ("um-scene-bench-" + std::to_string(::getpid()));
    fs::create_directories(w);
    data::PrepareOptions p;
    p.dataset = "ml-1m";
    p.raw_dir = shared / "data" / "ml-1m";
    p.work_dir = w;
    data::prepare(p);
    return w;
  }();
  return work;
}

const data::Dataset& dataset() {
  static data::Dataset ds = data::load_dataset(work_dir(), "ml-1m");
  return ds;
}

void BM_LoadDataset(benchmark::State& state) {
  work_dir();
  for (auto _ : state) benchmark::DoNotOptimize(data::load_dataset(work_dir(), "ml-1m"));
}
BENCHMARK(BM_LoadDataset)->Unit(benchmark::kMillisecond);

void BM_CollaborativeEmbedding(benchmark::State& state) {
  scene::DatasetIndex index(dataset());
  scene::CollaborativeParams p;
  p.threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(scene::collaborative_embedding(index, p));
}
BENCHMARK(BM_CollaborativeEmbedding)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// 1,000 train scenes (2–12 options, random + collaborative), embedding cached; arg = threads.
void BM_TrainScenes1k(benchmark::State& state) {
  scene::SceneConfig cfg;
  cfg.split = "train";
  cfg.samples = 1000;
  cfg.shape = {.min_options = 2, .max_options = 12};
  cfg.work = work_dir();
  cfg.threads = static_cast<unsigned>(state.range(0));
  scene::SceneGenerator gen(dataset(), cfg);
  auto targets = gen.sample_targets(nullptr);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    scene::build_scenes(gen, targets, cfg.threads, [&](const scene::SceneOutcome& o) {
      if (!o.record) return;
      util::JsonWriter w(/*ascii=*/true);
      scene::write_scene(w, *o.record, /*with_impressions=*/false);
      out += w.str();
      out.push_back('\n');
    });
    bytes = out.size();
  }
  state.counters["scenes/s"] =
      benchmark::Counter(static_cast<double>(targets.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_TrainScenes1k)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
