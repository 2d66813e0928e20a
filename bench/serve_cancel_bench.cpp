// How fast abandoned work stops in `serve` over the embedded engine (issue 11 item 3): the time from
// the moment a request's work should stop to the moment the backend stopped it, on the Qwen2.5-0.5B
// shape (random weights, bf16), server and engine in this process.
//  * deadline: X-Request-Timeout T on a request that would run much longer; the 504 is sent only
//    after the backend reported the cancellation, so overshoot = time of the 504 - (send + T);
//  * disconnect: the request is sent on a raw connection that is closed after T; the backend's
//    failed-request counter (Backend::stats().failed, bumped when it answers the cancelled request)
//    is polled every 0.2 ms, so stop latency = its increment - the close.
// Cases: a long greedy generation (/v1/completions, max_tokens 4000) and /v1/simulate in direct mode
// on a ~3,000-token prompt (the option request's prefill, cancelled between 128-token blocks). For
// scale, one decode step and one prefill block are timed alone first.
//
//   OMP_WAIT_POLICY=PASSIVE build/bench/serve_cancel_bench [MODEL_DIR [REPEATS]]
//   (default /tmp/um-bench/qwen2.5-0.5b-shape, written by serve_generate_bench when absent)
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/backend.h"
#include "serve/serve.h"

namespace {
namespace fs = std::filesystem;
using namespace um;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string loadavg() {
  char buf[128] = "?\n";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(buf, sizeof buf, f)) std::strcpy(buf, "?\n");
    std::fclose(f);
  }
  return buf;
}

// Sends a whole request on a raw connection, closes it after `seconds`; returns the time of the close.
Clock::time_point send_and_leave(int port, const std::string& path, const std::string& body, double seconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) std::abort();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  ::close(fd);
  return Clock::now();
}

// Waits until the backend has answered `failed` requests with an error; returns when it saw it.
Clock::time_point wait_failed(const backend::Backend& be, int64_t failed) {
  const auto until = Clock::now() + std::chrono::seconds(600);
  while (be.stats().failed < failed && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  return Clock::now();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::path("/tmp/um-bench/qwen2.5-0.5b-shape");
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  if (!fs::exists(dir / "config.json")) {
    std::fprintf(stderr, "no model at %s (build/bench/serve_generate_bench writes it)\n", dir.c_str());
    return 1;
  }
  std::printf("load average at start %s", loadavg().c_str());
  auto be = backend::make_backend("local:" + dir.string() + "?prefix_cache=0");
  serve::ServeOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  serve::Server server(*be, so);
  const int port = server.bind();
  std::thread run([&] { server.run(); });
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(600);
  const std::string model = be->model_name();

  json gen = {{"model", model}, {"prompt", "Once upon a time"}, {"max_tokens", 4000}, {"temperature", 0}};
  std::string history;
  for (int i = 0; i < 250; ++i)
    history += "Movie " + std::to_string(i) + " (1995) - Drama, rated " + std::to_string(i % 5 + 1) + ";\n";
  json sim = {{"mode", "direct"},
              {"options", 4},
              {"messages",
               {{{"role", "system"}, {"content", "You are a user."}},
                {{"role", "user"}, {"content", "History:\n" + history + "Pick one of A-D."}}}}};

  // Scale: one decode step (64 greedy tokens) and one prefill block (the long prompt whole).
  json g64 = gen;
  g64["max_tokens"] = 64;
  auto t0 = Clock::now();
  auto r = http.Post("/v1/completions", g64.dump(), "application/json");
  const double gen_ms = ms_between(t0, Clock::now());
  const int64_t toks =
      r && r->status == 200 ? json::parse(r->body)["usage"]["completion_tokens"].get<int64_t>() : 0;
  t0 = Clock::now();
  r = http.Post("/v1/simulate", sim.dump(), "application/json");
  const double sim_ms = ms_between(t0, Clock::now());
  const auto stats = be->stats();
  std::printf(
      "scale: %lld tokens generated in %.0f ms (%.1f ms per token, prefill included); long prompt "
      "%lld tokens scored in %.0f ms (%.0f ms per 128-token block)\n",
      static_cast<long long>(toks), gen_ms, toks ? gen_ms / static_cast<double>(toks) : 0.0,
      static_cast<long long>(stats.option_prompt_tokens), sim_ms,
      sim_ms / (static_cast<double>(stats.option_prompt_tokens) / 128.0));

  struct Case {
    const char* name;
    const char* path;
    const json* body;
    double after_s;
  };
  const Case cases[] = {{"generation", "/v1/completions", &gen, 2.0},
                        {"simulate direct, long prompt", "/v1/simulate", &sim, 1.0}};
  int64_t failed = be->stats().failed;
  for (int rep = 0; rep < repeats; ++rep) {
    for (const Case& c : cases) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", c.after_s);
      t0 = Clock::now();
      r = http.Post(c.path, {{"X-Request-Timeout", limit}}, c.body->dump(), "application/json");
      const double over = ms_between(t0, Clock::now()) - c.after_s * 1000;
      failed = be->stats().failed;
      std::printf("deadline %s s, %-30s status %d, 504 sent %6.1f ms after the deadline\n", limit, c.name,
                  r ? r->status : 0, over);
      const auto closed = send_and_leave(port, c.path, c.body->dump(), c.after_s);
      const auto stopped = wait_failed(*be, failed + 1);
      failed = be->stats().failed;
      std::printf("disconnect after %s s, %-26s backend stopped %6.1f ms after the close\n", limit, c.name,
                  ms_between(closed, stopped));
    }
  }
  std::printf("load average at end %s", loadavg().c_str());
  server.stop();
  run.join();
  return 0;
}
