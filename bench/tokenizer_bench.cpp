// Tokenizer speed: encode throughput (MB/s, tokens/s) on English review text, one core and
// batched, and load time of tokenizer.json.
//
//   build/bench/tokenizer_bench [--tokenizer=DIR] [--data=DIR] [google-benchmark flags]
//   build/bench/tokenizer_bench --write_corpus=FILE      # the English corpus as oracle records
//   build/bench/tokenizer_bench --time_corpus=FILE [--ids_out=OUT]
//       one timed single-thread pass: "encode_ms <wall> cpu_ms <cpu> tokens <n> bytes <n>"; OUT gets the
//       ids as the oracle's --encode-only writes them ([[ids]] per line) so both can be compared.
//
// Defaults: --tokenizer=../shared/tokenizers/qwen3 --data=../shared/data (run from the repo root).
// bench/tokenizer_vs_js.sh times the same corpus with the JavaScript oracle and prints the ratio.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/tokenizer.h"
#include "util/line_reader.h"

namespace {

std::string g_tokenizer = "../shared/tokenizers/qwen3";
std::string g_data = "../shared/data";

// English text: every review text and summary of the Amazon Magazine Subscriptions 5-core file.
const std::vector<std::string>& english() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    um::util::LineReader in(g_data + "/amazon-2018-Magazine_Subscriptions/Magazine_Subscriptions_5.json.gz");
    std::string_view line;
    while (in.next(line)) {
      auto j = nlohmann::json::parse(line);
      for (const char* k : {"reviewText", "summary"}) {
        if (j.contains(k) && j[k].is_string()) out.push_back(j[k].get<std::string>());
      }
    }
    return out;
  }();
  return texts;
}

const um::text::Tokenizer& tokenizer() {
  static const um::text::Tokenizer tok = um::text::Tokenizer::load(g_tokenizer);
  return tok;
}

size_t total_bytes(const std::vector<std::string>& texts) {
  size_t n = 0;
  for (const auto& t : texts) n += t.size();
  return n;
}

void BM_Load(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(um::text::Tokenizer::load(g_tokenizer));
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_EncodeEnglishOneCore(benchmark::State& state) {
  const auto& texts = english();
  const auto& tok = tokenizer();
  size_t tokens = 0;
  for (auto _ : state) {
    for (const auto& t : texts) tokens += tok.encode(t, false).size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total_bytes(texts)));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeEnglishOneCore)->Unit(benchmark::kMillisecond);

void BM_EncodeEnglishOffsets(benchmark::State& state) {
  const auto& texts = english();
  const auto& tok = tokenizer();
  for (auto _ : state) {
    for (const auto& t : texts) benchmark::DoNotOptimize(tok.encode_with_offsets(t, false));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total_bytes(texts)));
}
BENCHMARK(BM_EncodeEnglishOffsets)->Unit(benchmark::kMillisecond);

void BM_EncodeBatch(benchmark::State& state) {
  const auto& texts = english();
  const auto& tok = tokenizer();
  for (auto _ : state)
    benchmark::DoNotOptimize(tok.encode_batch(texts, false, static_cast<unsigned>(state.range(0))));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total_bytes(texts)));
}
BENCHMARK(BM_EncodeBatch)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Decode(benchmark::State& state) {
  const auto& tok = tokenizer();
  std::vector<std::vector<int32_t>> ids;
  size_t bytes = 0;
  for (const auto& t : english()) {
    ids.push_back(tok.encode(t, false));
    bytes += t.size();
  }
  for (auto _ : state) {
    for (const auto& v : ids) benchmark::DoNotOptimize(tok.decode(v));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

std::vector<std::string> read_records(const std::string& path) {
  std::string buf = um::util::read_file(path);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < buf.size()) {
    size_t nl = buf.find('\n', pos);
    size_t len = std::stoul(buf.substr(pos, nl - pos));
    out.push_back(buf.substr(nl + 1, len));
    pos = nl + 1 + len + 1;
  }
  return out;
}

bool flag(const char* arg, const char* name, std::string& value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  value = arg + n + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string write_corpus, time_corpus, ids_out;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && (flag(argv[i], "--tokenizer", g_tokenizer) || flag(argv[i], "--data", g_data) ||
                  flag(argv[i], "--write_corpus", write_corpus) ||
                  flag(argv[i], "--time_corpus", time_corpus) || flag(argv[i], "--ids_out", ids_out))) {
      continue;
    }
    rest.push_back(argv[i]);
  }
  if (!write_corpus.empty()) {
    std::ofstream f(write_corpus, std::ios::binary);
    for (const auto& t : english()) f << t.size() << '\n' << t << '\n';
    return f ? 0 : 1;
  }
  if (!time_corpus.empty()) {
    auto texts = read_records(time_corpus);
    const auto& tok = tokenizer();
    auto cpu_now = [] {
      timespec ts{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
    };
    double c0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    size_t tokens = 0;
    std::vector<std::vector<int32_t>> all;
    all.reserve(texts.size());
    for (const auto& t : texts) {
      all.push_back(tok.encode(t, false));
      tokens += all.back().size();
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    double cpu_ms = cpu_now() - c0;
    std::cout << "encode_ms " << ms << " cpu_ms " << cpu_ms << " tokens " << tokens << " bytes "
              << total_bytes(texts) << "\n";
    if (!ids_out.empty()) {
      std::ofstream f(ids_out);
      for (const auto& v : all) {
        f << "[[";
        for (size_t i = 0; i < v.size(); ++i) f << (i ? "," : "") << v[i];
        f << "]]\n";
      }
    }
    return 0;
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
