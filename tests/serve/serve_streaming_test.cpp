// Streaming token by token, cancellation on client disconnect and the bounded SIGTERM drain, with a
// backend that produces its tokens on its own thread and waits on the test between them: the tests
// prove orderings (the client saw token 1 before the backend produced token 2; the backend saw the
// cancel flag) and use generous bounds only to avoid hanging when something is broken.
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

// Streams "tok0 ", "tok1 ", ... (max_tokens of them, sample 0 only); after the first token it waits
// for release() (or the request's cancel flag) before producing the rest.
class GatedBackend : public backend::Backend {
 public:
  ~GatedBackend() override {
    release();
    for (auto& t : threads_) t.join();
  }
  std::string model_name() const override { return "gated"; }
  void submit_generate(std::vector<backend::GenerateRequest> reqs, backend::GenerateCallback done) override {
    std::lock_guard lock(threads_mu_);
    threads_.emplace_back([this, reqs = std::move(reqs), done = std::move(done)] {
      for (size_t i = 0; i < reqs.size(); ++i) run(i, reqs[i], done);
    });
  }
  void submit_options(std::vector<backend::OptionRequest>, backend::OptionCallback) override {
    throw util::NotSupported("no options here");
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  // Waits (bounded) until the generation ended; returns whether it ended by the cancel flag.
  bool wait_finished(bool* cancelled) {
    std::unique_lock lock(mu_);
    bool ok = cv_.wait_for(lock, std::chrono::seconds(60), [&] { return finished_; });
    *cancelled = cancelled_;
    return ok;
  }
  bool wait_started() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return started_; });
  }
  std::atomic<bool> released_before_second_token{false};

 private:
  void run(size_t i, const backend::GenerateRequest& r, const backend::GenerateCallback& done) {
    backend::GenerateResult out;
    backend::Sample s;
    {
      std::lock_guard lock(mu_);
      started_ = true;
    }
    cv_.notify_all();
    bool cancelled = false;
    for (int t = 0; t < r.sampling.max_tokens; ++t) {
      if (t == 1) {
        // Waits for release() or the cancel flag (which nobody notifies: polled).
        std::unique_lock lock(mu_);
        const auto until = Clock::now() + std::chrono::seconds(60);
        while (!released_ && !(r.cancel && r.cancel->load()) && Clock::now() < until)
          cv_.wait_for(lock, std::chrono::milliseconds(5));
        released_before_second_token = released_;
      }
      // One "decode step": stop as soon as the request is cancelled.
      if (r.cancel && r.cancel->load()) {
        cancelled = true;
        break;
      }
      std::string tok = "tok" + std::to_string(t) + " ";
      s.text += tok;
      if (r.on_delta) r.on_delta({0, tok, {}, ""});
    }
    s.finish_reason = "length";
    if (r.on_delta && !cancelled) r.on_delta({0, "", {}, "length"});
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      cancelled_ = cancelled;
    }
    cv_.notify_all();
    if (cancelled) {
      done(i, {}, std::make_exception_ptr(util::Error("generation cancelled")));
      return;
    }
    out.samples.push_back(std::move(s));
    out.completion_tokens = r.sampling.max_tokens;
    done(i, std::move(out), nullptr);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false, started_ = false, finished_ = false, cancelled_ = false;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

// POSTs `body` and hands the answer's bytes to `on_data` as they arrive (return false to hang up).
// Returns the HTTP status, or 0 when the connection ended without a complete answer.
int post_streaming(int port, const std::string& path, const std::string& body,
                   const std::function<bool(const char*, size_t)>& on_data) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(120);
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) { return on_data(data, len); };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!http.send(req, res, err)) return 0;
  return res.status;
}

json chat_body(bool stream, int max_tokens) {
  return {{"model", "gated"},
          {"messages", {{{"role", "user"}, {"content", "hi"}}}},
          {"max_tokens", max_tokens},
          {"stream", stream}};
}

TEST(ServeStreaming, DeltasArriveTokenByToken) {
  GatedBackend be;
  testing::RunningServer srv(be, {});
  std::string received, content;
  bool released = false;
  int status = post_streaming(srv.port, "/v1/chat/completions", chat_body(true, 4).dump(),
                              [&](const char* data, size_t len) {
                                received.append(data, len);
                                // Token 0 reached the client while the backend waits before token 1.
                                if (!released && received.find("tok0 ") != std::string::npos) {
                                  released = true;
                                  be.release();
                                }
                                return true;
                              });
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(be.released_before_second_token.load());
  size_t pos = 0;
  bool done = false;
  while ((pos = received.find("data: ", pos)) != std::string::npos) {
    size_t end = received.find("\n\n", pos);
    std::string data = received.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    json c = json::parse(data);
    for (const auto& ch : c["choices"])
      if (ch["delta"].contains("content")) content += ch["delta"]["content"].get<std::string>();
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(content, "tok0 tok1 tok2 tok3 ");
}

TEST(ServeStreaming, CompletionsStreamWithUsage) {
  GatedBackend be;
  be.release();
  testing::RunningServer srv(be, {});
  httplib::Client http("127.0.0.1", srv.port);
  json body = {{"model", "gated"},
               {"prompt", "x"},
               {"max_tokens", 3},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  auto res = http.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::string text, finish;
  bool usage = false;
  size_t pos = 0;
  while ((pos = res->body.find("data: ", pos)) != std::string::npos) {
    size_t end = res->body.find("\n\n", pos);
    std::string data = res->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") continue;
    json c = json::parse(data);
    EXPECT_EQ(c["object"], "text_completion");
    if (c.contains("usage")) {
      usage = true;
      EXPECT_EQ(c["usage"]["completion_tokens"], 3);
    }
    for (const auto& ch : c["choices"]) {
      text += ch["text"].get<std::string>();
      if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
    }
  }
  EXPECT_EQ(text, "tok0 tok1 tok2 ");
  EXPECT_EQ(finish, "length");
  EXPECT_TRUE(usage);
}

TEST(ServeStreaming, StreamingClientThatLeavesCancelsItsGeneration) {
  GatedBackend be;  // never released: only the cancel flag ends the generation early
  testing::RunningServer srv(be, {});
  std::string received;
  post_streaming(srv.port, "/v1/chat/completions", chat_body(true, 1000).dump(),
                 [&](const char* data, size_t len) {
                   received.append(data, len);
                   return received.find("tok0 ") == std::string::npos;  // hang up after token 0
                 });
  EXPECT_NE(received.find("tok0 "), std::string::npos);
  bool cancelled = false;
  ASSERT_TRUE(be.wait_finished(&cancelled));
  EXPECT_TRUE(cancelled);
}

// A raw connection that sends a whole request and closes without reading the answer.
void send_and_close(int port, const std::string& body) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string req =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  ::close(fd);
}

TEST(ServeStreaming, NonStreamingClientThatLeavesCancelsItsGeneration) {
  GatedBackend be;
  testing::RunningServer srv(be, {});
  std::string body = chat_body(false, 1000).dump();
  send_and_close(srv.port, body);
  ASSERT_TRUE(be.wait_started());
  bool cancelled = false;
  ASSERT_TRUE(be.wait_finished(&cancelled));
  EXPECT_TRUE(cancelled);
}

TEST(ServeStreaming, StopDrainsForAtMostTheTimeoutThenAnswersWithAnError) {
  GatedBackend be;  // never released
  serve::ServeOptions opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.drain_timeout_s = 1;
  serve::Server server(be, opts);
  int port = server.bind();
  std::thread run([&] { server.run(); });
  int status = 0;
  std::string answer;
  std::thread client([&] {
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(120);
    auto res = http.Post("/v1/chat/completions", chat_body(false, 1000).dump(), "application/json");
    if (res) {
      status = res->status;
      answer = res->body;
    }
  });
  ASSERT_TRUE(be.wait_started());
  server.stop();  // the request cannot finish by itself: the drain timeout aborts it
  run.join();
  client.join();
  bool cancelled = false;
  ASSERT_TRUE(be.wait_finished(&cancelled));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(status, 503);
  EXPECT_NE(answer.find("drain timeout"), std::string::npos) << answer;
}

}  // namespace
}  // namespace um
