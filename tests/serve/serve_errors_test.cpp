// Bad requests get 4xx OpenAI-format JSON errors and the server keeps serving; auth, busy (429) and
// graceful shutdown.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "serve/fake_backend.h"
#include "serve/serve_test_util.h"
#include "util/error.h"

namespace um {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::RunningServer;

json chat_body() {
  return {{"model", "fake-sim"}, {"messages", {{{"role", "user"}, {"content", "hello"}}}}, {"max_tokens", 3}};
}

void expect_error(const httplib::Result& res, int status, const std::string& what) {
  ASSERT_TRUE(res) << what;
  EXPECT_EQ(res->status, status) << what << ": " << res->body;
  json j = json::parse(res->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << what << ": body is not JSON: " << res->body;
  ASSERT_TRUE(j.contains("error")) << what;
  EXPECT_TRUE(j["error"]["message"].is_string()) << what;
  EXPECT_TRUE(j["error"]["type"].is_string()) << what;
  EXPECT_TRUE(j["error"].contains("param") && j["error"].contains("code")) << what;
}

TEST(ServeErrors, BadRequestsGetJsonErrorsAndServerKeepsServing) {
  FakeBackend fake;
  serve::ServeOptions o;
  o.max_body_bytes = 64 * 1024;
  o.max_n = 8;
  o.max_tokens_limit = 100;
  RunningServer srv(fake, o);
  httplib::Client http("127.0.0.1", srv.port);
  auto post = [&](const std::string& path, const std::string& body) {
    return http.Post(path.c_str(), body, "application/json");
  };
  expect_error(post("/v1/chat/completions", "{\"model\": \"fake-sim\", \"messages\": ["), 400,
               "malformed JSON");
  expect_error(post("/v1/chat/completions", "[1,2]"), 400, "not an object");
  json b = chat_body();
  b["n"] = "3";
  expect_error(post("/v1/chat/completions", b.dump()), 400, "n of the wrong type");
  b = chat_body();
  b["messages"] = "hello";
  expect_error(post("/v1/chat/completions", b.dump()), 400, "messages of the wrong type");
  b = chat_body();
  b["temperature"] = true;
  expect_error(post("/v1/chat/completions", b.dump()), 400, "temperature of the wrong type");
  b = chat_body();
  b["messages"][0]["content"] = std::string(100 * 1024, 'x');
  expect_error(post("/v1/chat/completions", b.dump()), 413, "huge body");
  b = chat_body();
  b["model"] = "gpt-nope";
  expect_error(post("/v1/chat/completions", b.dump()), 404, "unknown model");
  b = chat_body();
  b["n"] = 9;
  expect_error(post("/v1/chat/completions", b.dump()), 400, "n too large");
  b = chat_body();
  b["max_tokens"] = 101;
  expect_error(post("/v1/chat/completions", b.dump()), 400, "max_tokens too large");
  expect_error(
      post("/v1/chat/completions",
           "{\"model\":\"fake-sim\",\"messages\":[{\"role\":\"user\",\"content\":\"bad \xC3\x28 utf8\"}]}"),
      400, "invalid UTF-8");
  b = chat_body();
  b["presence_penalty"] = 0.5;
  expect_error(post("/v1/chat/completions", b.dump()), 400, "unsupported feature");
  expect_error(post("/v1/completions", json{{"model", "fake-sim"}, {"prompt", {1, -2}}}.dump()), 400,
               "bad token id");
  expect_error(post("/v1/completions", json{{"model", "fake-sim"}}.dump()), 400, "missing prompt");
  expect_error(post("/v1/nope", "{}"), 404, "unknown endpoint");
  expect_error(post("/v1/simulate", json{{"messages", {{{"role", "user"}, {"content", "x"}}}}}.dump()), 400,
               "simulate without options");
  EXPECT_EQ(fake.calls.load(), 0);

  auto ok = post("/v1/chat/completions", chat_body().dump());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body)["choices"].size(), 1u);
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = http.Get("/v1/models");
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "fake-sim");
  EXPECT_GE(srv.server->stats().errors_4xx, 14);
}

// Found by the serve-request fuzz target and the soak (docs/reliability.md): each was answered 500
// (internal_error: a nlohmann exception escaped) or, for a 'letters' repeat, 200 with a distribution
// that lost an option.
TEST(ServeErrors, FuzzFoundBodiesAre400) {
  FakeBackend fake;
  RunningServer srv(fake, {});
  httplib::Client http("127.0.0.1", srv.port);
  auto post = [&](const std::string& path, const std::string& body) {
    return http.Post(path.c_str(), body, "application/json");
  };
  const json msgs = {{{"role", "user"}, {"content", "x"}}};
  expect_error(
      post("/v1/chat/completions", R"({"model":"fake-sim","messages":[],"max_tokens":999999991e308})"), 400,
      "number beyond double's range");
  expect_error(post("/v1/simulate", json{{"messages", msgs}, {"options", 3}, {"mode", 5}}.dump()), 400,
               "mode not a string");
  expect_error(post("/v1/simulate", json{{"messages", msgs}, {"letters", {"A", "B", "A"}}}.dump()), 400,
               "repeated letter");
  expect_error(
      post("/v1/simulate", json{{"messages", msgs}, {"options", 2}, {"letter_token_ids", {-1, 5}}}.dump()),
      400, "negative letter token id");
  expect_error(post("/v1/simulate",
                    json{{"messages", msgs}, {"options", 2}, {"letter_token_ids", {4294967296LL, 5}}}.dump()),
               400, "letter token id beyond int32");
  EXPECT_EQ(fake.calls.load(), 0);
  EXPECT_EQ(srv.server->stats().errors_5xx, 0);
}

TEST(ServeErrors, BearerApiKey) {
  FakeBackend fake;
  serve::ServeOptions o;
  o.api_key = "s3cret-key";
  RunningServer srv(fake, o);
  httplib::Client http("127.0.0.1", srv.port);
  expect_error(http.Post("/v1/chat/completions", chat_body().dump(), "application/json"), 401, "no key");
  httplib::Headers wrong{{"Authorization", "Bearer s3cret-kez"}};
  expect_error(http.Post("/v1/chat/completions", wrong, chat_body().dump(), "application/json"), 401,
               "wrong key");
  httplib::Headers prefix{{"Authorization", "Bearer s3cret"}};
  expect_error(http.Post("/v1/chat/completions", prefix, chat_body().dump(), "application/json"), 401,
               "prefix");
  httplib::Headers right{{"Authorization", "Bearer s3cret-key"}};
  auto ok = http.Post("/v1/chat/completions", right, chat_body().dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // The client sends the key from an environment variable.
  setenv("UM_TEST_SERVE_KEY", "s3cret-key", 1);
  auto client =
      backend::make_backend("openai:" + srv.base() + "?model=fake-sim&api_key_env=UM_TEST_SERVE_KEY");
  backend::GenerateRequest req{.key = "k", .messages = {{"user", "x"}}};
  req.sampling.max_tokens = 2;
  EXPECT_EQ(client->generate_one(req).samples.size(), 1u);
  try {
    backend::make_backend("openai:" + srv.base() + "?model=fake-sim&api_key_env=UM_TEST_UNSET_VARIABLE");
    FAIL() << "an unset key variable must be an error";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("UM_TEST_UNSET_VARIABLE"), std::string::npos);
  }
}

TEST(ServeErrors, FullQueueAnswers429WithRetryAfter) {
  FakeBackend fake;
  fake.delay_ms = 600;
  serve::ServeOptions o;
  o.max_concurrent = 1;
  o.max_queue = 0;
  o.retry_after_s = 2;
  RunningServer srv(fake, o);
  auto slow = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", srv.port);
    return c.Post("/v1/chat/completions", chat_body().dump(), "application/json")->status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  httplib::Client http("127.0.0.1", srv.port);
  auto busy = http.Post("/v1/chat/completions", chat_body().dump(), "application/json");
  expect_error(busy, 429, "busy");
  EXPECT_EQ(busy->get_header_value("Retry-After"), "2");
  EXPECT_EQ(slow.get(), 200);
  EXPECT_EQ(srv.server->stats().rejected_busy, 1);
}

TEST(ServeErrors, StopFinishesInFlightRequests) {
  FakeBackend fake;
  fake.delay_ms = 400;
  serve::ServeOptions o;
  o.port = 0;
  serve::Server server(fake, o);
  int port = server.bind();
  std::thread t([&] { server.run(); });
  auto inflight = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Post("/v1/chat/completions", chat_body().dump(), "application/json");
    return r ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  server.stop();
  t.join();
  EXPECT_EQ(inflight.get(), 200);
  httplib::Client after("127.0.0.1", port);
  EXPECT_FALSE(after.Get("/health"));  // no longer listening
}

}  // namespace
}  // namespace um
