// Fault injection: the OpenAI client against a real local HTTP server (cpp-httplib, loopback) that
// fails attempts on purpose. Every record must end up stored exactly once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/backend.h"
#include "backend/request_store.h"
#include "common/shared_data.h"
#include "util/error.h"

namespace um::backend {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

enum class Fault { kOk, k500, k429, kStall, kTruncatedJson, kCutBody, k400, kNoChoices };

class FaultServer {
 public:
  // plan(key, attempt) says how to answer the attempt-th request carrying X-Request-Id key.
  explicit FaultServer(std::function<Fault(const std::string&, int)> plan) : plan_(std::move(plan)) {
    svr_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    svr_.Post("/v1/chat/completions",
              [this](const httplib::Request& req, httplib::Response& res) { answer(req, res); });
    svr_.Post("/v1/completions",
              [this](const httplib::Request& req, httplib::Response& res) { completions(req, res); });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    httplib::Client probe("127.0.0.1", port_);
    for (int i = 0; i < 200 && !probe.Get("/"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FaultServer() {
    svr_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int attempts(const std::string& key) {
    std::lock_guard lock(mu_);
    return attempts_[key];
  }
  int total_attempts() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (auto& [k, v] : attempts_) n += v;
    return n;
  }
  std::atomic<int> ok_sent{0};
  std::atomic<int> rejected_allowed_ids{0};

 private:
  void answer(const httplib::Request& req, httplib::Response& res) {
    std::string key = req.get_header_value("X-Request-Id");
    int attempt;
    {
      std::lock_guard lock(mu_);
      attempt = ++attempts_[key];
    }
    res.set_header("x-request-id", "srv-" + key + "-" + std::to_string(attempt));
    json body = json::parse(req.body);
    switch (plan_(key, attempt)) {
      case Fault::kOk:
      case Fault::kStall: {
        if (plan_(key, attempt) == Fault::kStall)
          std::this_thread::sleep_for(std::chrono::milliseconds(1200));
        json choices = json::array();
        for (int i = 0; i < body.value("n", 1); ++i) {
          choices.push_back(
              {{"index", i},
               {"message",
                {{"role", "assistant"}, {"content", "answer for " + key + " #" + std::to_string(i)}}},
               {"finish_reason", "stop"}});
        }
        res.set_content(json{{"id", "x"},
                             {"object", "chat.completion"},
                             {"choices", choices},
                             {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 4}}}}
                            .dump(),
                        "application/json");
        ok_sent.fetch_add(1);
        return;
      }
      case Fault::k500:
        res.status = 500;
        res.set_content("internal error", "text/plain");
        return;
      case Fault::k429:
        res.status = 429;
        res.set_header("Retry-After", "0");
        res.set_content(R"({"error":{"message":"slow down"}})", "application/json");
        return;
      case Fault::kTruncatedJson:
        res.set_content(R"({"choices":[{"index":0,"message":{"content":"ans)", "application/json");
        return;
      case Fault::kNoChoices:
        res.set_content(R"({"id":"x","choices":[]})", "application/json");
        return;
      case Fault::kCutBody:
        // Promises 500 bytes, sends 20, then drops the connection.
        res.set_content_provider(500, "application/json", [](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0) sink.write(R"({"choices":[{"index")", 20);
          return false;
        });
        return;
      case Fault::k400:
        res.status = 400;
        res.set_content(R"({"error":{"message":"'messages' is invalid","type":"invalid_request_error"}})",
                        "application/json");
        return;
    }
  }

  void completions(const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body);
    if (body.contains("allowed_token_ids")) {
      rejected_allowed_ids.fetch_add(1);
      res.status = 400;
      res.set_content(R"({"error":{"message":"unknown field allowed_token_ids"}})", "application/json");
      return;
    }
    json lp = {{"tokens", {"A"}},
               {"token_logprobs", {-1.0}},
               {"top_logprobs", {{{"A", -1.0}, {"B", -2.0}, {" C", -0.1}}}}};
    res.set_content(
        json{{"choices", {{{"index", 0}, {"text", "A"}, {"logprobs", lp}, {"finish_reason", "length"}}}}}
            .dump(),
        "application/json");
  }

  std::function<Fault(const std::string&, int)> plan_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, int> attempts_;
};

GenerateRequest chat_request(const std::string& key, int n = 2) {
  GenerateRequest r{.key = key, .messages = {{"system", "s"}, {"user", "u"}}};
  r.sampling.n = n;
  return r;
}

// Submits every request, storing each answer under its key; waits for all callbacks.
struct StoreRun {
  int ok = 0, failed = 0;
  std::vector<std::string> errors;
};
StoreRun run_into_store(Backend& be, RequestStore& store, std::vector<GenerateRequest> reqs) {
  StoreRun out;
  std::mutex mu;
  std::condition_variable cv;
  size_t left = reqs.size();
  std::vector<std::string> keys;
  for (auto& r : reqs) keys.push_back(r.key);
  be.submit_generate(std::move(reqs), [&](size_t i, GenerateResult&& r, std::exception_ptr err) {
    std::lock_guard lock(mu);
    if (err) {
      ++out.failed;
      try {
        std::rethrow_exception(err);
      } catch (const std::exception& e) {
        out.errors.push_back(e.what());
      }
    } else {
      json v = json::array();
      for (auto& s : r.samples) v.push_back(s.text);
      EXPECT_TRUE(store.put(keys[i], v.dump())) << keys[i] << " answered twice";
      ++out.ok;
    }
    if (--left == 0) cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  return out;
}

size_t count_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string l;
  size_t n = 0;
  while (std::getline(in, l)) ++n;
  return n;
}

TEST(OpenAIClientFaults, EveryRecordStoredExactlyOnceDespiteFaults) {
  const Fault first[] = {Fault::kOk,      Fault::k500,      Fault::k429, Fault::kStall, Fault::kTruncatedJson,
                         Fault::kCutBody, Fault::kNoChoices};
  FaultServer server([&](const std::string& key, int attempt) {
    int i = std::stoi(key.substr(key.find('-') + 1));
    if (attempt == 1) return first[i % 7];
    if (attempt == 2 && i % 5 == 0) return Fault::k500;  // some fail twice in a row
    return Fault::kOk;
  });
  auto be = make_backend("openai:" + server.base() +
                         "?model=m&concurrency=8&timeout=0.4&retries=4&backoff=0.01&backoff_max=0.05");
  auto path = um::testing::temp_dir("faults") / "decide.store.jsonl";
  RequestStore store(path, "decide");
  std::vector<GenerateRequest> reqs;
  const int n = 70;
  for (int i = 0; i < n; ++i) reqs.push_back(chat_request("scene-" + std::to_string(i)));
  StoreRun run = run_into_store(*be, store, reqs);
  EXPECT_EQ(run.ok, n);
  EXPECT_EQ(run.failed, 0) << (run.errors.empty() ? "" : run.errors[0]);
  EXPECT_EQ(store.size(), static_cast<size_t>(n));
  EXPECT_EQ(count_lines(path), static_cast<size_t>(n + 1));
  std::map<std::string, std::string> stored;
  RequestStore::read(path, "decide", [&](const std::string& k, const std::string& v) { stored[k] = v; });
  for (int i = 0; i < n; ++i) {
    std::string key = "scene-" + std::to_string(i);
    ASSERT_TRUE(stored.count(key)) << key;
    EXPECT_EQ(json::parse(stored[key])[1], "answer for " + key + " #1");
  }
  BackendStats st = be->stats();
  EXPECT_EQ(st.requests, n);
  EXPECT_EQ(st.failed, 0);
  EXPECT_GE(st.retries, 6 * n / 7);
  EXPECT_EQ(st.attempts, st.requests + st.retries);
}

TEST(OpenAIClientFaults, ValidationErrorsAreNotRetriedAndNameTheRequest) {
  FaultServer server([](const std::string& key, int) { return key == "bad" ? Fault::k400 : Fault::kOk; });
  auto be = make_backend("openai:" + server.base() + "?model=m&retries=5&backoff=0.01");
  try {
    be->generate_one(chat_request("bad"));
    FAIL() << "a 400 must fail";
  } catch (const util::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("HTTP 400"), std::string::npos) << msg;
    EXPECT_NE(msg.find("srv-bad-1"), std::string::npos) << msg;  // the server's request id
    EXPECT_NE(msg.find("'messages' is invalid"), std::string::npos) << msg;
    EXPECT_EQ(e.where().record, "bad");
  }
  EXPECT_EQ(server.attempts("bad"), 1);
  EXPECT_EQ(be->generate_one(chat_request("good")).samples.size(), 2u);
}

TEST(OpenAIClientFaults, GivesUpAfterMaxAttempts) {
  FaultServer server([](const std::string&, int) { return Fault::k500; });
  auto be = make_backend("openai:" + server.base() + "?model=m&retries=2&backoff=0.001");
  try {
    be->generate_one(chat_request("doomed"));
    FAIL();
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.attempts("doomed"), 3);
}

TEST(OpenAIClientFaults, HonoursRetryAfter) {
  FaultServer server([](const std::string&, int attempt) { return attempt == 1 ? Fault::k429 : Fault::kOk; });
  // The fault server answers Retry-After: 0; a server asking for 1 s is honoured over a tiny backoff.
  httplib::Server slow;
  std::atomic<int> calls{0};
  Clock::time_point first, second;
  slow.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (calls.fetch_add(1) == 0) {
      first = Clock::now();
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    second = Clock::now();
    res.set_content(
        R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}]})",
        "application/json");
  });
  int port = slow.bind_to_any_port("127.0.0.1");
  std::thread t([&] { slow.listen_after_bind(); });
  auto be = make_backend("openai:http://127.0.0.1:" + std::to_string(port) + "/v1?model=m&backoff=0.001");
  EXPECT_EQ(be->generate_one(chat_request("r", 1)).samples[0].text, "x");
  EXPECT_GE(std::chrono::duration<double>(second - first).count(), 0.95);
  be.reset();  // closes the keep-alive connection, which stop() would otherwise wait out (5 s)
  slow.stop();
  t.join();
}

TEST(OpenAIClientFaults, BalancesAwayFromADeadEndpoint) {
  // A port that was free a moment ago and has nothing listening: connections are refused.
  int dead_port;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    dead_port = ntohs(addr.sin_port);
    ::close(fd);
  }
  FaultServer server([](const std::string&, int) { return Fault::kOk; });
  auto be = make_backend("openai:http://127.0.0.1:" + std::to_string(dead_port) + "/v1," + server.base() +
                         "?model=m&concurrency=4&backoff=0.01&backoff_max=0.2");
  auto path = um::testing::temp_dir("dead") / "s.jsonl";
  RequestStore store(path, "decide");
  std::vector<GenerateRequest> reqs;
  for (int i = 0; i < 40; ++i) reqs.push_back(chat_request("k-" + std::to_string(i), 1));
  StoreRun run = run_into_store(*be, store, reqs);
  EXPECT_EQ(run.ok, 40);
  EXPECT_EQ(server.ok_sent.load(), 40);
  // The dead endpoint is rested after its first refusals instead of taking half the traffic.
  EXPECT_LT(be->stats().retries, 20);
}

TEST(OpenAIClientFaults, KilledAndRestartedStageResendsOnlyMissingKeys) {
  FaultServer server([](const std::string&, int) { return Fault::kOk; });
  const int n = 60;
  auto path = um::testing::temp_dir("restart") / "decide.store.jsonl";
  std::vector<GenerateRequest> all;
  for (int i = 0; i < n; ++i) all.push_back(chat_request("scene-" + std::to_string(i), 1));
  size_t stored_first;
  {
    RequestStore store(path, "decide");
    auto be = make_backend("openai:" + server.base() + "?model=m&concurrency=2");
    std::atomic<int> done{0};
    be->submit_generate(all, [&](size_t i, GenerateResult&& r, std::exception_ptr err) {
      if (!err) store.put(all[i].key, json(r.samples[0].text).dump());
      done.fetch_add(1);
    });
    while (store.size() < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    be.reset();  // "kill": queued and in-flight requests fail, each callback runs once
    EXPECT_EQ(done.load(), n);
    stored_first = store.size();
    EXPECT_LT(stored_first, static_cast<size_t>(n));
  }
  {
    std::ofstream torn(path, std::ios::app);
    torn << R"({"key":"scene-)";
  }
  RequestStore store(path, "decide");
  EXPECT_EQ(store.size(), stored_first);
  std::vector<GenerateRequest> missing;
  for (auto& r : all) {
    if (!store.contains(r.key)) missing.push_back(r);
  }
  EXPECT_EQ(missing.size(), n - stored_first);
  // The restarted stage talks to a fresh server: a request of the killed client may still reach the
  // first one after the kill, which would make a shared attempt counter race.
  FaultServer restarted([](const std::string&, int) { return Fault::kOk; });
  auto be = make_backend("openai:" + restarted.base() + "?model=m&concurrency=4");
  StoreRun run = run_into_store(*be, store, missing);
  EXPECT_EQ(run.ok, static_cast<int>(missing.size()));
  EXPECT_EQ(restarted.total_attempts(), static_cast<int>(missing.size()));
  EXPECT_EQ(store.size(), static_cast<size_t>(n));
  EXPECT_EQ(count_lines(path), static_cast<size_t>(n + 1));
}

TEST(OpenAIClientFaults, FallsBackWhenAllowedTokenIdsIsRejected) {
  FaultServer server([](const std::string&, int) { return Fault::kOk; });
  auto be = make_backend("openai:" + server.base() + "?model=m");
  OptionRequest req{.key = "o",
                    .prompt = std::string("p Behavior: ["),
                    .letters = {"A", "B", "C"},
                    .letter_token_ids = {32, 33, 34}};
  OptionResult r = be->option_distribution_one(req);
  EXPECT_EQ(server.rejected_allowed_ids.load(), 1);
  EXPECT_EQ(r.missing_letters, 1);  // " C" is not the bare letter "C"
  double a = std::exp(-1.0), b = std::exp(-2.0), z = a + b + 1e-10;
  EXPECT_NEAR(r.probs[0], a / z, 1e-12);
  EXPECT_NEAR(r.probs[1], b / z, 1e-12);
  EXPECT_NEAR(r.probs[2], 1e-10 / z, 1e-20);
  be->option_distribution_one(req);
  EXPECT_EQ(server.rejected_allowed_ids.load(), 1);  // not sent again
  EXPECT_EQ(be->stats().missing_letters, 2);
  auto strict = make_backend("openai:" + server.base() + "?model=m&allowed_token_ids=on");
  EXPECT_THROW(strict->option_distribution_one(req), util::Error);
}

}  // namespace
}  // namespace um::backend
