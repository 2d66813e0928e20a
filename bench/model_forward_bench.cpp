// Engine throughput on a random-weight model shaped like Qwen2.5-0.5B (bf16), as fractions of the
// machine limits measured in the same run:
//   prefill tok/s ÷ (bf16 GEMM peak / matmul FLOPs per token)
//   decode  tok/s ÷ (read bandwidth / weight bytes per step)
// Two weight layouts are compared: "stored" ([out,in] mmap views, at::linear) and "transposed"
// (pre-transposed fused copies, at::matmul; LoadOptions::pretranspose). Also prefix-shared scoring of 20
// continuations versus scoring each full sequence.
//
// The model is written once to $UM_BENCH_MODEL_DIR (default /tmp/um-bench/qwen2.5-0.5b-shape) from
// the Qwen3 tokenizer in ../shared ($UM_SHARED_DIR overrides). Run with OMP_WAIT_POLICY=PASSIVE set in the
// environment.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "model/bench_support.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace {
namespace fs = std::filesystem;
using namespace um;

fs::path model_dir() {
  const char* env = std::getenv("UM_BENCH_MODEL_DIR");
  fs::path dir = env ? fs::path(env) : fs::path("/tmp/um-bench/qwen2.5-0.5b-shape");
  if (!fs::exists(dir / "config.json")) {
    model::InitOptions o;
    o.arch = "qwen2";
    o.layers = 24;
    o.hidden = 896;
    o.heads = 14;
    o.kv_heads = 2;
    o.intermediate = 4864;
    o.vocab = 151936;
    o.tie_embeddings = true;
    o.dtype = "bf16";
    o.seed = 1;
    const char* shared = std::getenv("UM_SHARED_DIR");
    o.tokenizer_dir =
        (shared ? fs::path(shared) : fs::path(__FILE__).parent_path() / "../../shared") / "tokenizers/qwen3";
    o.out_dir = dir;
    std::cerr << "writing benchmark model to " << dir << "\n";
    model::init_random_model(o);
  }
  return dir;
}

std::shared_ptr<const model::Model> get_model(bool transposed) {
  static std::shared_ptr<const model::Model> m[2];
  if (!m[transposed]) {
    model::LoadOptions opts{.dtype = model::DType::BF16, .pretranspose = true};
    m[transposed] = transposed ? model::Model::load(model_dir(), opts)
                               : model::bench::load_stored_layout(model_dir(), opts);
  }
  return m[transposed];
}

struct Limits {
  double gemm_bf16 = 0, read_gbs = 0;
};
const Limits& limits() {
  static Limits l = [] {
    model::configure_threads(0);
    Limits x;
    x.gemm_bf16 = model::bench::gemm_gflops(model::DType::BF16);
    x.read_gbs = model::bench::read_bandwidth_gbs();
    return x;
  }();
  return l;
}

// Process CPU seconds (all threads). On a shared machine wall time is inflated by other processes;
// tokens per (CPU seconds / threads) estimates the throughput the same work gets on idle cores.
double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void set_cpu_counters(benchmark::State& state, double cpu0, double tokens_done, double per_token_peak) {
  const double cpu = process_cpu_seconds() - cpu0;
  const double threads = static_cast<double>(um::util::default_threads());
  state.counters["cpu_s"] = cpu;
  state.counters["tok_per_core_time"] = tokens_done / (cpu / threads);
  state.counters["frac_by_core_time"] = tokens_done / (cpu / threads) / per_token_peak;
}

std::vector<int32_t> tokens(int64_t n, int salt) {
  std::vector<int32_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 7919 + salt * 104729) % 150000));
  return v;
}

void BM_MachineLimits(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(limits());
  state.counters["gemm_bf16_gflops"] = limits().gemm_bf16;
  state.counters["read_gb_s"] = limits().read_gbs;
}

// Args: prompt length, layout (1 = transposed).
void BM_Prefill(benchmark::State& state) {
  const int64_t T = state.range(0);
  auto m = get_model(state.range(1) != 0);
  auto ids = tokens(T, 1);
  const double peak_tok_s = limits().gemm_bf16 * 1e9 / model::bench::matmul_flops_per_token(*m, false);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    model::Session s(m, 0);
    benchmark::DoNotOptimize(s.append(s.create(), ids));
  }
  const double n = static_cast<double>(T) * static_cast<double>(state.iterations());
  set_cpu_counters(state, cpu0, n, peak_tok_s);
  state.counters["tok_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["frac_gemm_peak"] = benchmark::Counter(n / peak_tok_s, benchmark::Counter::kIsRate);
}

// Args: batch size, layout. Each iteration is one decode step of every sequence (context ~64).
void BM_Decode(benchmark::State& state) {
  const int64_t B = state.range(0);
  auto m = get_model(state.range(1) != 0);
  model::Session s(m, 0);
  std::vector<model::Append> prefill;
  for (int64_t b = 0; b < B; ++b) prefill.push_back({s.create(), tokens(64, static_cast<int>(b)), false});
  s.append_batch(prefill);
  std::vector<model::Append> step;
  for (const auto& p : prefill) step.push_back({p.seq, {17}, false});
  const double peak_steps = limits().read_gbs * 1e9 / model::bench::weight_bytes_per_token(*m);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(s.append_batch(step));
  const double steps = static_cast<double>(state.iterations());
  set_cpu_counters(state, cpu0, steps * static_cast<double>(B), peak_steps * static_cast<double>(B));
  state.counters["tok_s"] = benchmark::Counter(steps * static_cast<double>(B), benchmark::Counter::kIsRate);
  state.counters["frac_bw_limit"] = benchmark::Counter(steps / peak_steps, benchmark::Counter::kIsRate);
}

// Scoring a scene: a 400-token prompt and 20 rationales of 60 tokens, option distribution after each.
// Arg: 1 = prefix-shared (prompt once, forks), 0 = every full sequence from scratch.
void BM_Score20(benchmark::State& state) {
  auto m = get_model(false);
  auto prompt = tokens(400, 3);
  std::vector<std::vector<int32_t>> conts;
  for (int i = 0; i < 20; ++i) conts.push_back(tokens(60, 10 + i));
  std::vector<int32_t> options = {32, 33, 34, 35, 36};
  {
    // Both variants start with every weight page resident (a filtered run may start here).
    model::Session warm(m, 0);
    warm.append(warm.create(), tokens(64, 1));
  }
  size_t computed = 0;
  for (auto _ : state) {
    model::Session s(m, state.range(0) ? 8 : 0);
    if (state.range(0)) {
      benchmark::DoNotOptimize(model::score_continuations(s, prompt, conts, options));
    } else {
      for (const auto& c : conts) {
        auto full = prompt;
        full.insert(full.end(), c.begin(), c.end());
        auto l = s.append(s.create(), full);
        benchmark::DoNotOptimize(model::option_distribution(l.row(0), options));
      }
    }
    computed = s.tokens_computed();
  }
  state.counters["tokens_computed"] = static_cast<double>(computed);
}

// One 4864×896 projection (the 0.5B shape's gate/up) for M rows of x in the three formulations:
// the small-batch AVX-512 BF16 kernel, at::linear on the stored [out, in] weight, at::matmul on a
// pre-transposed copy; each as its weight-read rate over the read bandwidth measured here.
void BM_SmallBatchLinear(benchmark::State& state) {
  using model::bench::Projection;
  const int64_t M = state.range(0), N = 4864, K = 896;
  if (!model::bench::small_batch_kernel_available()) {
    state.SkipWithError("this CPU has no AVX-512 BF16: the small-batch kernel is not used");
    return;
  }
  static const double bw = model::bench::read_bandwidth_gbs();
  double t[3] = {};
  for (auto _ : state) {
    for (auto how : {Projection::Kernel, Projection::Linear, Projection::MatmulTransposed}) {
      t[static_cast<int>(how)] = model::bench::small_batch_linear_seconds(M, N, K, how);
    }
  }
  const double bytes = static_cast<double>(N * K * 2);
  state.counters["kernel_us"] = t[0] * 1e6;
  state.counters["linear_us"] = t[1] * 1e6;
  state.counters["matmul_t_us"] = t[2] * 1e6;
  state.counters["kernel_frac_bw"] = bytes / t[0] / 1e9 / bw;
  state.counters["linear_frac_bw"] = bytes / t[1] / 1e9 / bw;
  state.counters["matmul_t_frac_bw"] = bytes / t[2] / 1e9 / bw;
}

BENCHMARK(BM_MachineLimits)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmallBatchLinear)
    ->Arg(1)
    ->Arg(4)
    ->Arg(10)
    ->Arg(16)
    ->Arg(32)
    ->Arg(64)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Prefill)
    ->Args({512, 1})
    ->Args({2048, 1})
    ->Args({512, 0})
    ->Args({64, 0})
    ->Args({128, 0})
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Decode)
    ->Args({1, 1})
    ->Args({10, 1})
    ->Args({1, 0})
    ->Args({10, 0})
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Score20)->Arg(1)->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
