// Client overhead: how many small requests/s the OpenAI client (libcurl multi, one event-loop
// thread) sustains against a trivial local endpoint that answers a fixed chat completion. Target
// (issue 5): >= 5,000 requests/s on 2 cores, so the client is never a GPU fleet's bottleneck.
// The endpoint (cpp-httplib, thread per connection) runs in a forked child process on the same
// cores, so this process's CPU time (getrusage: the caller thread + the client's event-loop thread)
// is the client's own cost: client_cpu_us_per_req, and the rate one core could sustain from it.
//
//   build/bench/backend_client_bench --benchmark_counters_tabular=true
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "backend/backend.h"

namespace {

using namespace um;

constexpr const char* kAnswer =
    R"({"id":"c","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"Thought: fine\nBehavior: [A]"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18}})";

// Same as serve's server.cpp: cpp-httplib 0.11 (Debian) listens with a backlog of 5: a burst of connecting
// clients overflows the accept queue and stalls in SYN/ACK retransmits for seconds. Linux lets listen() be
// called again on a listening socket to enlarge its backlog; find ours by its bound port.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

int g_port = 0;

// Runs the endpoint in a child process; returns its port (the child serves until killed).
pid_t start_endpoint() {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    httplib::Server svr;
    svr.new_task_queue = [] { return new httplib::ThreadPool(80); };
    svr.set_keep_alive_max_count(1000000);
    svr.set_tcp_nodelay(true);  // else Nagle + delayed ACK adds 40 ms per answer
    svr.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kAnswer, "application/json");
    });
    int port = svr.bind_to_any_port("127.0.0.1");
    widen_listen_backlog(port);
    if (write(fds[1], &port, sizeof port) != sizeof port) _exit(1);
    close(fds[1]);
    svr.listen_after_bind();
    _exit(0);
  }
  close(fds[1]);
  if (read(fds[0], &g_port, sizeof g_port) != sizeof g_port) std::abort();
  close(fds[0]);
  return pid;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

void BM_ClientSmallRequests(benchmark::State& state) {
  const int concurrency = static_cast<int>(state.range(0));
  const int batch = 4000;
  auto be = backend::make_backend("openai:http://127.0.0.1:" + std::to_string(g_port) +
                                  "/v1?model=m&concurrency=" + std::to_string(concurrency));
  std::vector<backend::GenerateRequest> reqs(batch);
  for (int i = 0; i < batch; ++i) {
    reqs[static_cast<size_t>(i)].key = "scene-" + std::to_string(i) + "/teacher/0";
    reqs[static_cast<size_t>(i)].messages = {{"system", "You simulate a user."},
                                             {"user", "Pick [A] or [B]."}};
    reqs[static_cast<size_t>(i)].sampling.max_tokens = 16;
  }
  int64_t errors = 0, done_total = 0;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int left = batch;
    be->submit_generate(reqs, [&](size_t, backend::GenerateResult&&, std::exception_ptr err) {
      std::lock_guard lock(mu);
      if (err) ++errors;
      if (--left == 0) cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
    done_total += batch;
  }
  const double cpu = cpu_seconds() - cpu0;
  state.SetItemsProcessed(done_total);
  state.counters["client_cpu_us_per_req"] = cpu * 1e6 / static_cast<double>(done_total);
  state.counters["req_per_s_per_client_core"] = static_cast<double>(done_total) / cpu;
  state.counters["errors"] = static_cast<double>(errors);
  state.counters["req_per_s"] =
      benchmark::Counter(static_cast<double>(done_total), benchmark::Counter::kIsRate);
  state.counters["retries"] = static_cast<double>(be->stats().retries);
}
BENCHMARK(BM_ClientSmallRequests)
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->Arg(64)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  pid_t child = start_endpoint();  // before any thread exists
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  return 0;
}
