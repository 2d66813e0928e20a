// Loopback load test of `serve`: N concurrent closed-loop clients (cpp-httplib, keep-alive) send
// small chat completions for a bounded time against the server over a trivial backend (fixed
// answer, no model), measuring throughput, p50/p99 latency, errors and lost requests (sent without
// any answer). Server and clients share the machine's cores.
//
//   build/bench/serve_load_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "backend/backend.h"
#include "serve/serve.h"

namespace {

using namespace um;
using Clock = std::chrono::steady_clock;

// Answers instantly with one fixed sample: measures the server, not a model.
class TrivialBackend : public backend::Backend {
 public:
  std::string model_name() const override { return "trivial"; }
  void submit_generate(std::vector<backend::GenerateRequest> reqs, backend::GenerateCallback done) override {
    for (size_t i = 0; i < reqs.size(); ++i) {
      backend::GenerateResult r;
      for (int k = 0; k < reqs[i].sampling.n; ++k)
        r.samples.push_back({"Thought: fine\nBehavior: [A]", "stop", {}});
      r.prompt_tokens = 20;
      r.completion_tokens = 8;
      done(i, std::move(r), nullptr);
    }
  }
  void submit_options(std::vector<backend::OptionRequest> reqs, backend::OptionCallback done) override {
    for (size_t i = 0; i < reqs.size(); ++i) {
      done(i, backend::letter_distribution(std::vector<double>(reqs[i].letters.size(), 0.0)), nullptr);
    }
  }
};

void BM_ServeLoad(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  const double seconds = 3.0;
  TrivialBackend be;
  serve::ServeOptions opts;
  opts.port = 0;
  opts.max_concurrent = 64;
  opts.max_queue = 256;
  serve::Server server(be, opts);
  const int port = server.bind();
  std::thread srv([&] { server.run(); });
  const std::string body =
      R"({"model":"trivial","messages":[{"role":"system","content":"You simulate a user."},)"
      R"({"role":"user","content":"Pick [A] or [B]."}],"max_tokens":16,"temperature":1.0})";
  for (auto _ : state) {
    std::atomic<int64_t> sent{0}, ok{0}, errors{0}, lost{0};
    std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client cli("127.0.0.1", port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        while (Clock::now() < deadline) {
          auto t0 = Clock::now();
          sent.fetch_add(1);
          auto res = cli.Post("/v1/chat/completions", body, "application/json");
          if (!res) {
            lost.fetch_add(1);
            continue;
          }
          if (res->status != 200) {
            errors.fetch_add(1);
            continue;
          }
          ok.fetch_add(1);
          lat[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double q) {
      return all.empty() ? 0.0 : all[static_cast<size_t>(q * static_cast<double>(all.size() - 1))];
    };
    state.counters["req_per_s"] = static_cast<double>(ok.load()) / seconds;
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
    state.counters["errors"] = static_cast<double>(errors.load());
    state.counters["lost"] = static_cast<double>(lost.load());
    state.counters["requests"] = static_cast<double>(sent.load());
  }
  server.stop();
  srv.join();
}
BENCHMARK(BM_ServeLoad)->Arg(1)->Arg(8)->Arg(32)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
