// The token sampler on one logits row of the Qwen2.5 vocabulary size (V = 151,936, padded config):
// model::sample (O(V): pre-filter, selection, radix sort of values) against model::sample_by_sorting
// (the definition it replaced: all V candidates sorted with a comparator), which draw the same ids
// (tests/model/sampling_reference_test.cpp).
//
//   build/bench/sampling_bench --benchmark_counters_tabular=true
//
// Rows: logits ~ N(0, sd) (sd 1: like a random-weight model; sd 4: a trained model's spread), then
// greedy, T = 1 (no truncation), T = 1 top_p 0.95, T = 0.7 top_k 40, T = 0.8 min_p 0.05, T = 1 top_p
// 0.9 (the serve benchmark's sampler); the padding rows above the tokenizer's 151,665 ids masked as
// the embedded backend does.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "model/sampling.h"
#include "util/rng.h"

namespace {

using namespace um;

constexpr size_t kVocab = 151936;
constexpr size_t kTokenizer = 151665;

std::vector<float> row(double sd) {
  util::Rng rng(42);
  std::vector<float> l(kVocab);
  for (auto& x : l) {
    double g = 0;
    for (int j = 0; j < 12; ++j) g += rng.uniform01();
    x = static_cast<float>((g - 6.0) * sd);
  }
  return l;
}

model::SamplingParams params(int which) {
  switch (which) {
    case 0:
      return {0.0, 0, 1.0, 0.0};
    case 1:
      return {1.0, 0, 1.0, 0.0};
    case 2:
      return {1.0, 0, 0.95, 0.0};
    case 3:
      return {0.7, 40, 1.0, 0.0};
    case 4:
      return {0.8, 0, 1.0, 0.05};
    default:
      return {1.0, 0, 0.9, 0.0};
  }
}

template <bool kSorting>
void BM_Sample(benchmark::State& state) {
  const std::vector<float> logits = row(static_cast<double>(state.range(1)));
  const model::SamplingParams p = params(static_cast<int>(state.range(0)));
  const std::vector<uint8_t> allowed(kTokenizer, 1);
  util::Rng rng(1);
  for (auto _ : state) {
    int32_t id =
        kSorting ? model::sample_by_sorting(logits, p, rng, allowed) : model::sample(logits, p, rng, allowed);
    benchmark::DoNotOptimize(id);
  }
  state.counters["tok/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  static const char* names[] = {"greedy",         "T1",         "T1_top_p0.95", "T0.7_top_k40",
                                "T0.8_min_p0.05", "T1_top_p0.9"};
  state.SetLabel(std::string(names[state.range(0)]) + " sd=" + std::to_string(state.range(1)));
}

void args(benchmark::internal::Benchmark* b) {
  for (int sd : {1, 4})
    for (int w = 0; w < 6; ++w) b->Args({w, sd});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Sample<true>)->Name("BM_SampleBySorting")->Apply(args);
BENCHMARK(BM_Sample<false>)->Name("BM_Sample")->Apply(args);

}  // namespace

BENCHMARK_MAIN();
