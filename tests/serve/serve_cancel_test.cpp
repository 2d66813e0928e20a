// Cancellation of /v1/simulate's work when its client leaves (direct mode: the option request;
// reasoning mode: the generation and the option requests after it) and per-request deadlines
// (X-Request-Timeout, ServeOptions::request_timeout_s: 504, an SSE error event in a started stream,
// 400 for a bad header). The backend here works in counted steps and checks the request's cancel
// flag before each one; the tests assert on the work it did (which requests it saw, whether each
// ended by the flag), and use generous bounds only so that a broken build fails instead of hanging.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/serve_test_util.h"
#include "util/error.h"

namespace um {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A backend whose requests take `gen_steps` decode steps (generation, one "tok " each, streamed) or
// `option_steps` units of work (option requests), 1 ms each, checking the request's cancel flag
// before every step. It records what each request did.
class StepBackend : public backend::Backend {
 public:
  struct Record {
    bool option = false;
    bool had_flag = false;   // the request carried a cancel flag
    bool cancelled = false;  // it ended because the flag read true
    int steps = 0;           // steps done
  };
  std::atomic<int> gen_steps{20000};
  std::atomic<int> option_steps{20000};

  ~StepBackend() override {
    std::lock_guard lock(threads_mu_);
    for (auto& t : threads_) t.join();
  }
  std::string model_name() const override { return "steps"; }
  void submit_generate(std::vector<backend::GenerateRequest> reqs, backend::GenerateCallback done) override {
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back([this, reqs = std::move(reqs), done = std::move(done)] {
      for (size_t i = 0; i < reqs.size(); ++i) {
        const auto& r = reqs[i];
        const int limit = std::min(r.sampling.max_tokens, gen_steps.load());
        backend::Sample s;
        Record rec = run(false, r.cancel, limit, [&](int) {
          s.text += "tok ";
          if (r.on_delta) r.on_delta({0, "tok ", {}, ""});
        });
        if (rec.cancelled) {
          done(i, {}, std::make_exception_ptr(util::Error("generation cancelled", {.record = r.key})));
          continue;
        }
        s.finish_reason = "length";
        if (r.on_delta) r.on_delta({0, "", {}, "length"});
        backend::GenerateResult out;
        for (int k = 0; k < r.sampling.n; ++k) out.samples.push_back(s);
        out.completion_tokens = rec.steps;
        done(i, std::move(out), nullptr);
      }
    });
  }
  void submit_options(std::vector<backend::OptionRequest> reqs, backend::OptionCallback done) override {
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back([this, reqs = std::move(reqs), done = std::move(done)] {
      for (size_t i = 0; i < reqs.size(); ++i) {
        const auto& r = reqs[i];
        Record rec = run(true, r.cancel, option_steps.load(), [](int) {});
        if (rec.cancelled) {
          done(i, {}, std::make_exception_ptr(util::Error("option request cancelled", {.record = r.key})));
          continue;
        }
        backend::OptionResult out;
        out.probs.assign(r.letters.size(), 1.0 / static_cast<double>(r.letters.size()));
        out.raw_logprobs.assign(r.letters.size(), std::log(out.probs[0]));
        done(i, std::move(out), nullptr);
      }
    });
  }

  // Waits (bounded) until `n` requests have ended; returns a copy of the records.
  std::vector<Record> wait_ended(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(120), [&] { return ended_.size() >= n; });
    return ended_;
  }
  // Waits (bounded) until `n` requests of the kind have started.
  bool wait_started(bool option, int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60),
                        [&] { return (option ? options_started_ : gens_started_) >= n; });
  }
  int started(bool option) {
    std::lock_guard lock(mu_);
    return option ? options_started_ : gens_started_;
  }

 private:
  Record run(bool option, const std::shared_ptr<const std::atomic<bool>>& cancel, int limit,
             const std::function<void(int)>& step) {
    {
      std::lock_guard lock(mu_);
      ++(option ? options_started_ : gens_started_);
    }
    cv_.notify_all();
    Record rec{option, cancel != nullptr, false, 0};
    for (int t = 0; t < limit; ++t) {
      if (cancel && cancel->load()) {
        rec.cancelled = true;
        break;
      }
      step(t);
      ++rec.steps;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    {
      std::lock_guard lock(mu_);
      ended_.push_back(rec);
    }
    cv_.notify_all();
    return rec;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Record> ended_;
  int gens_started_ = 0, options_started_ = 0;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

// Sends a whole request on a raw connection, waits (bounded) until `leave_now()` holds, and closes
// the connection without reading the answer: a client that went away while its request runs.
void send_then_leave(int port, const std::string& path, const std::string& body,
                     const std::function<bool()>& leave_now) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string req = "POST " + path +
                    " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  EXPECT_TRUE(leave_now());
  ::close(fd);
}

json simulate_body(const std::string& mode) {
  return {{"mode", mode},
          {"messages", {{{"role", "system"}, {"content", "sys"}}, {{"role", "user"}, {"content", "scene"}}}},
          {"options", 3},
          {"n", 2},
          {"max_tokens", 5},
          {"seed", 1}};
}

serve::ServeOptions options() {
  serve::ServeOptions o;
  o.max_tokens_limit = 1'000'000;
  return o;
}

TEST(ServeCancel, SimulateDirectClientThatLeavesCancelsTheOptionRequest) {
  StepBackend be;  // option requests take ~20 s unless cancelled
  testing::RunningServer srv(be, options());
  send_then_leave(srv.port, "/v1/simulate", simulate_body("direct").dump(),
                  [&] { return be.wait_started(true, 1); });
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].option);
  EXPECT_TRUE(ended[0].had_flag);
  EXPECT_TRUE(ended[0].cancelled);
  EXPECT_LT(ended[0].steps, be.option_steps.load());
}

TEST(ServeCancel, SimulateReasoningClientThatLeavesCancelsTheGenerationAndSendsNoOptions) {
  StepBackend be;
  testing::RunningServer srv(be, options());
  json body = simulate_body("reasoning");
  body["max_tokens"] = 20000;
  send_then_leave(srv.port, "/v1/simulate", body.dump(), [&] { return be.wait_started(false, 1); });
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].option);
  EXPECT_TRUE(ended[0].had_flag);
  EXPECT_TRUE(ended[0].cancelled);
  // The handler has answered (the 499 nobody reads) without asking for option distributions.
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (srv.server->stats().errors_4xx < 1 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(srv.server->stats().errors_4xx, 1);
  EXPECT_EQ(be.started(true), 0);
}

TEST(ServeCancel, SimulateReasoningClientThatLeavesDuringTheOptionsCancelsThem) {
  StepBackend be;
  be.gen_steps = 3;  // the rationales finish; the option requests (one per rationale) would not
  testing::RunningServer srv(be, options());
  send_then_leave(srv.port, "/v1/simulate", simulate_body("reasoning").dump(),
                  [&] { return be.wait_started(true, 1); });
  // One generation (finished) and the two option requests (cancelled; the second may be cancelled
  // before its first step).
  auto ended = be.wait_ended(3);
  ASSERT_EQ(ended.size(), 3u);
  EXPECT_FALSE(ended[0].option);
  EXPECT_FALSE(ended[0].cancelled);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_TRUE(ended[i].option) << i;
    EXPECT_TRUE(ended[i].had_flag) << i;
    EXPECT_TRUE(ended[i].cancelled) << i;
  }
}

// SIGTERM's drain reaches /v1/simulate's work too: after the drain timeout the option request is
// cancelled and the client gets 503.
TEST(ServeCancel, DrainTimeoutCancelsSimulate) {
  StepBackend be;  // option requests take ~20 s unless cancelled
  serve::ServeOptions opts = options();
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.drain_timeout_s = 1;
  serve::Server server(be, opts);
  const int port = server.bind();
  std::thread run([&] { server.run(); });
  int status = 0;
  std::string answer;
  std::thread client([&] {
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(120);
    auto res = http.Post("/v1/simulate", simulate_body("direct").dump(), "application/json");
    if (res) {
      status = res->status;
      answer = res->body;
    }
  });
  ASSERT_TRUE(be.wait_started(true, 1));
  server.stop();
  run.join();
  client.join();
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].cancelled);
  EXPECT_EQ(status, 503);
  EXPECT_NE(answer.find("drain timeout"), std::string::npos) << answer;
}

json error_of(const std::string& body) {
  json j = json::parse(body);
  return j.at("error");
}

// A deadline that passes during a long generation: the generation is cancelled (the backend saw the
// flag before finishing), the client gets 504 with an OpenAI-style error, and the next request is
// answered normally.
TEST(ServeCancel, DeadlineOnALongGenerationAnswers504AndTheServerGoesOn) {
  StepBackend be;  // 20 000 steps of 1 ms unless cancelled
  testing::RunningServer srv(be, options());
  httplib::Client http("127.0.0.1", srv.port);
  http.set_read_timeout(120);
  json body = {
      {"model", "steps"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 20000}};
  auto res =
      http.Post("/v1/chat/completions", {{"X-Request-Timeout", "0.25"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  json e = error_of(res->body);
  EXPECT_EQ(e["type"], "timeout_error");
  EXPECT_EQ(e["code"], "request_timeout");
  EXPECT_NE(e["message"].get<std::string>().find("0.25 s"), std::string::npos) << e;
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].cancelled);
  EXPECT_LT(ended[0].steps, 20000);

  body["max_tokens"] = 3;
  res = http.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], "tok tok tok ");
  EXPECT_EQ(srv.server->stats().errors_5xx, 1);
}

// The server's limit applies without the header, and bounds a header asking for more; /v1/simulate
// and /v1/completions are covered too.
TEST(ServeCancel, ServerRequestTimeoutAppliesToEveryGeneratingEndpoint) {
  StepBackend be;
  serve::ServeOptions o = options();
  o.request_timeout_s = 0.2;
  testing::RunningServer srv(be, o);
  httplib::Client http("127.0.0.1", srv.port);
  http.set_read_timeout(120);
  json completion = {{"model", "steps"}, {"prompt", "x"}, {"max_tokens", 20000}};
  auto res =
      http.Post("/v1/completions", {{"X-Request-Timeout", "1000"}}, completion.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_NE(error_of(res->body)["message"].get<std::string>().find("0.2 s"), std::string::npos) << res->body;
  res = http.Post("/v1/simulate", simulate_body("direct").dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(error_of(res->body)["type"], "timeout_error");
  auto ended = be.wait_ended(2);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_TRUE(ended[0].cancelled);
  EXPECT_TRUE(ended[1].option);
  EXPECT_TRUE(ended[1].cancelled);
}

// A deadline in reasoning mode's generation: 504, the generation cancelled, no option request sent.
TEST(ServeCancel, DeadlineDuringSimulateReasoningCancelsTheGeneration) {
  StepBackend be;
  testing::RunningServer srv(be, options());
  httplib::Client http("127.0.0.1", srv.port);
  http.set_read_timeout(120);
  json body = simulate_body("reasoning");
  body["max_tokens"] = 20000;
  auto res = http.Post("/v1/simulate", {{"X-Request-Timeout", "0.2"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_EQ(error_of(res->body)["code"], "request_timeout");
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].option);
  EXPECT_TRUE(ended[0].cancelled);
  EXPECT_EQ(be.started(true), 0);
}

// A stream already started when its deadline passes ends with the timeout's error event, then [DONE].
TEST(ServeCancel, DeadlineInAStartedStreamSendsAnErrorEventThenDone) {
  StepBackend be;
  testing::RunningServer srv(be, options());
  httplib::Client http("127.0.0.1", srv.port);
  http.set_read_timeout(120);
  json body = {{"model", "steps"},
               {"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"max_tokens", 20000},
               {"stream", true}};
  auto res =
      http.Post("/v1/chat/completions", {{"X-Request-Timeout", "0.3"}}, body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  std::vector<std::string> events;
  size_t pos = 0;
  while ((pos = res->body.find("data: ", pos)) != std::string::npos) {
    size_t end = res->body.find("\n\n", pos);
    events.push_back(res->body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  ASSERT_GE(events.size(), 3u);
  EXPECT_NE(events[1].find("tok "), std::string::npos);  // content went out before the deadline
  EXPECT_EQ(events.back(), "[DONE]");
  json e = json::parse(events[events.size() - 2]).at("error");
  EXPECT_EQ(e["type"], "timeout_error");
  EXPECT_EQ(e["code"], "request_timeout");
  auto ended = be.wait_ended(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].cancelled);
}

TEST(ServeCancel, InvalidRequestTimeoutHeaderIs400) {
  StepBackend be;
  be.gen_steps = 1;
  testing::RunningServer srv(be, options());
  httplib::Client http("127.0.0.1", srv.port);
  json chat = {{"model", "steps"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 1}};
  for (const char* bad : {"abc", "0", "-1", "nan", "inf", "1e8", "2s", "0x10"}) {
    SCOPED_TRACE(bad);
    for (const char* path : {"/v1/chat/completions", "/v1/simulate"}) {
      auto res = http.Post(path, {{"X-Request-Timeout", bad}},
                           std::string(path) == "/v1/simulate" ? simulate_body("direct").dump() : chat.dump(),
                           "application/json");
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 400) << path;
      EXPECT_EQ(error_of(res->body)["param"], "X-Request-Timeout") << res->body;
    }
  }
  EXPECT_EQ(be.started(false) + be.started(true), 0);  // nothing reached the backend
  auto res =
      http.Post("/v1/chat/completions", {{"X-Request-Timeout", " 2.5 "}}, chat.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

}  // namespace
}  // namespace um
