// The pages shown to one user: ten prompts sharing a long prefix (system prompt, profile, history)
// and differing in a short suffix (the exposure list), on the Qwen2.5-0.5B shape (random weights,
// bf16; /tmp/um-bench/qwen2.5-0.5b-shape, written by bench/arena_bench.sh; UM_BENCH_MODEL_DIR
// overrides). Two ways to score them, with a prefix cache holding nothing of this user before:
//   Alone          no split: prefix reuse rounds down to 128-token blocks;
//   Split          with the shared-prefix split (backend::SharedPrefix): the shared part once.
// Diagnosis for the arena's pages/s (docs/benchmarks.md "Arena"); the end-to-end claim is
// bench/arena_bench.sh. Run: OMP_WAIT_POLICY=PASSIVE build/bench/page_group_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "model/model.h"

namespace {
namespace fs = std::filesystem;
using namespace um;

constexpr size_t kHead = 340, kSuffix = 90, kPages = 10;

std::shared_ptr<const model::Model> load() {
  static std::shared_ptr<const model::Model> m;
  if (m) return m;
  const char* env = std::getenv("UM_BENCH_MODEL_DIR");
  fs::path dir = env ? fs::path(env) : fs::path("/tmp/um-bench/qwen2.5-0.5b-shape");
  m = model::Model::load(dir, {.dtype = model::DType::BF16});
  return m;
}

// User u's pages: the same head, ten different suffixes.
std::vector<std::vector<int32_t>> pages(int u) {
  std::vector<std::vector<int32_t>> out;
  for (size_t p = 0; p < kPages; ++p) {
    std::vector<int32_t> t;
    for (size_t i = 0; i < kHead; ++i)
      t.push_back(static_cast<int32_t>((i * 7919 + static_cast<size_t>(u) * 104729) % 150000));
    for (size_t i = 0; i < kSuffix; ++i) t.push_back(static_cast<int32_t>((i * 31 + p * 977 + 11) % 150000));
    out.push_back(std::move(t));
  }
  return out;
}

void run(benchmark::State& state, bool split) {
  auto m = load();
  model::Session s(m, 16);
  const std::vector<int32_t> letters{32, 33, 34, 35, 36};
  int u = 0;
  for (auto _ : state) {
    auto ps = pages(++u);  // a new user each iteration: nothing of it cached
    for (const auto& p : ps)
      benchmark::DoNotOptimize(model::score_options(s, p, letters, false, split ? kHead : 0));
  }
  state.counters["pages/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kPages), benchmark::Counter::kIsRate);
}

void Alone(benchmark::State& st) { run(st, false); }
void Split(benchmark::State& st) { run(st, true); }
BENCHMARK(Alone)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(6.0);
BENCHMARK(Split)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(6.0);

}  // namespace

BENCHMARK_MAIN();
