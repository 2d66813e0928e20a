// Our OpenAI client (backend "openai:") against our server on loopback, end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "serve/fake_backend.h"
#include "serve/serve_test_util.h"
#include "text/prompt.h"
#include "text/prompt_store.h"

namespace um {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::RunningServer;

serve::ServeOptions opts_with_logprobs() {
  serve::ServeOptions o;
  o.max_logprobs = 26;
  return o;
}

TEST(ServeE2E, GenerationThroughClientMatchesBackend) {
  FakeBackend fake;
  RunningServer srv(fake, opts_with_logprobs());
  auto client = backend::make_backend("openai:" + srv.base() + "?model=fake-sim&concurrency=4");
  backend::GenerateRequest req{.key = "scene-1/teacher",
                               .messages = {{"system", "sys"}, {"user", "pick one"}}};
  req.sampling.n = 3;
  req.sampling.max_tokens = 7;
  req.sampling.seed = 42;
  req.sampling.stop = {"Behavior:"};
  backend::GenerateResult via_http = client->generate_one(req);
  backend::GenerateResult direct = fake.generate_one(req);
  ASSERT_EQ(via_http.samples.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(via_http.samples[i].text, direct.samples[i].text);
    EXPECT_EQ(via_http.samples[i].finish_reason, direct.samples[i].finish_reason);
  }
  EXPECT_EQ(via_http.completion_tokens, direct.completion_tokens);
  EXPECT_EQ(via_http.prompt_tokens, direct.prompt_tokens);

  // Completions form with token ids and a pre-rendered prompt.
  backend::GenerateRequest creq{.key = "c", .prompt = std::string("<|im_start|>user\nhi")};
  creq.sampling.max_tokens = 4;
  EXPECT_EQ(client->generate_one(creq).samples[0].text, fake.generate_one(creq).samples[0].text);
  backend::GenerateRequest treq{.key = "t", .prompt_tokens = {1, 2, 3}};
  treq.sampling.max_tokens = 2;
  EXPECT_EQ(client->generate_one(treq).samples[0].text, fake.generate_one(treq).samples[0].text);
}

TEST(ServeE2E, OptionDistributionThroughChatAndCompletionsIsLetterSoftmax) {
  FakeBackend fake;
  RunningServer srv(fake, opts_with_logprobs());
  auto client = backend::make_backend("openai:" + srv.base() + "?model=fake-sim&top_logprobs=26");
  backend::OptionRequest chat{
      .key = "s/0",
      .messages = {{"system", "sys"}, {"user", "u"}, {"assistant", "I think\nBehavior: ["}},
      .letters = {"A", "B", "C", "D", "E"}};
  backend::OptionResult want = fake.option_distribution_one(chat);
  backend::OptionResult got = client->option_distribution_one(chat);
  ASSERT_EQ(got.probs.size(), 5u);
  double sum = 0;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(got.probs[i], want.probs[i], 1e-12) << i;
    sum += got.probs[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(got.missing_letters, 0);

  backend::OptionRequest prompt{
      .key = "s/1", .prompt = std::string("rendered prompt Behavior: ["), .letters = {"A", "B", "C"}};
  backend::OptionResult want2 = fake.option_distribution_one(prompt);
  backend::OptionResult got2 = client->option_distribution_one(prompt);
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(got2.probs[i], want2.probs[i], 1e-12);
}

TEST(ServeE2E, MissingLettersGetTheFloorAndAreCounted) {
  FakeBackend fake;
  RunningServer srv(fake, opts_with_logprobs());
  // Only the top 2 of 26 letter tokens come back: the other requested letters are floored.
  auto client = backend::make_backend("openai:" + srv.base() + "?model=fake-sim&top_logprobs=1");
  backend::OptionRequest req{.key = "m",
                             .prompt = std::string("p"),
                             .letters = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"}};
  auto ranked = FakeBackend::letter_logprobs("p");
  int present = 0;
  for (const auto& l : req.letters) {
    for (size_t k = 0; k < 12; ++k) present += ranked[k].first == l;
  }
  backend::OptionResult got = client->option_distribution_one(req);
  EXPECT_EQ(got.missing_letters, 12 - present);
  EXPECT_GT(got.missing_letters, 0);
  double sum = 0;
  for (double p : got.probs) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(client->stats().missing_letters, got.missing_letters);
}

TEST(ServeE2E, StreamingDeltasConcatenateToTheFullAnswer) {
  FakeBackend fake;
  RunningServer srv(fake, {});
  httplib::Client http("127.0.0.1", srv.port);
  json body = {{"model", "fake-sim"},
               {"messages", {{{"role", "user"}, {"content", "stream please"}}}},
               {"max_tokens", 6},
               {"n", 2},
               {"seed", 3},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  auto res = http.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  std::vector<std::string> text(2);
  std::vector<std::string> finish(2);
  bool done = false, usage = false;
  size_t pos = 0;
  int chunks = 0;
  while ((pos = res->body.find("data: ", pos)) != std::string::npos) {
    size_t end = res->body.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    std::string data = res->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    json c = json::parse(data);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    if (c.contains("usage")) usage = true;
    for (const auto& ch : c["choices"]) {
      size_t i = ch["index"];
      if (ch["delta"].contains("content")) text[i] += ch["delta"]["content"].get<std::string>();
      if (!ch["finish_reason"].is_null()) finish[i] = ch["finish_reason"];
      ++chunks;
    }
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(usage);
  EXPECT_GT(chunks, 6);
  body["stream"] = false;
  body.erase("stream_options");
  json full = json::parse(http.Post("/v1/chat/completions", body.dump(), "application/json")->body);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(text[i], full["choices"][i]["message"]["content"].get<std::string>());
    EXPECT_EQ(finish[i], full["choices"][i]["finish_reason"].get<std::string>());
  }
}

TEST(ServeE2E, ProxyServesAnOpenAIBackend) {
  // usermirror serve --backend openai:... in front of another server: responses pass through.
  FakeBackend fake;
  RunningServer upstream(fake, opts_with_logprobs());
  auto proxy_backend = backend::make_backend("openai:" + upstream.base() + "?model=fake-sim&top_logprobs=26");
  RunningServer proxy(*proxy_backend, opts_with_logprobs());
  auto client = backend::make_backend("openai:" + proxy.base() + "?model=fake-sim&top_logprobs=26");
  backend::OptionRequest req{.key = "p", .prompt = std::string("x Behavior: ["), .letters = {"A", "B"}};
  auto want = fake.option_distribution_one(req);
  auto got = client->option_distribution_one(req);
  EXPECT_NEAR(got.probs[0], want.probs[0], 1e-12);
}

TEST(ServeE2E, SimulateDirectAndReasoning) {
  FakeBackend fake;
  RunningServer srv(fake, opts_with_logprobs());
  httplib::Client http("127.0.0.1", srv.port);
  json body = {
      {"messages", {{{"role", "system"}, {"content", "sys"}}, {{"role", "user"}, {"content", "scene"}}}},
      {"options", 5},
      {"seed", 7}};
  auto res = http.Post("/v1/simulate", body.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  backend::OptionRequest direct{
      .key = "d",
      .messages = {{"system", "sys"}, {"user", "scene"}, {"assistant", "Behavior: ["}},
      .letters = {"A", "B", "C", "D", "E"}};
  auto want = fake.option_distribution_one(direct);
  EXPECT_NEAR(j["distribution"]["C"].get<double>(), want.probs[2], 1e-12);
  EXPECT_EQ(j["choice"].get<std::string>().size(), 1u);
  EXPECT_EQ(json::parse(http.Post("/v1/simulate", body.dump(), "application/json")->body)["choice"],
            j["choice"]);

  body["mode"] = "reasoning";
  body["n"] = 3;
  body["max_tokens"] = 12;
  res = http.Post("/v1/simulate", body.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  j = json::parse(res->body);
  ASSERT_EQ(j["rationales"].size(), 3u);
  double sum = 0;
  for (const auto& [k, v] : j["distribution"].items()) sum += v.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-12);
  for (const auto& r : j["rationales"]) {
    std::string t = r["text"];
    EXPECT_EQ(t.rfind("Thought:\nStimulus:", 0), 0u);
    EXPECT_EQ(t.find("Behavior: ["), std::string::npos);  // generation stopped before the stop string
  }
}

TEST(ServeE2E, SimulateBuildsThePromptFromASceneRecord) {
  FakeBackend fake;
  RunningServer srv(fake, opts_with_logprobs());
  httplib::Client http("127.0.0.1", srv.port);
  json scene = {
      {"text",
       {{"profile", "## User Profile\nAge: 25-34\n"},
        {"action_list",
         {"Casino (1995) - Drama|Thriller \n", "Sabrina (1995) - Comedy|Romance \n", "Heat (1995)\n"}},
        {"history", "Toy Story (1995)\n"}}},
      {"user_id", "1"},
      {"item_id", "2"},
      {"choice_cnt", 3}};
  auto res = http.Post("/v1/simulate", json{{"scene", scene}, {"seed", 1}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  EXPECT_EQ(j["letters"], json::array({"A", "B", "C"}));
  text::SceneText st{
      "## User Profile\nAge: 25-34\n",
      {"Casino (1995) - Drama|Thriller \n", "Sabrina (1995) - Comedy|Romance \n", "Heat (1995)\n"},
      "Toy Story (1995)\n"};
  backend::OptionRequest want_req{
      .key = "w",
      .messages =
          text::scene_messages(st, text::load_prompt(text::kDefaultDirectPrompt), text::kBehaviorPrefix),
      .letters = {"A", "B", "C"}};
  auto want = fake.option_distribution_one(want_req);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(j["distribution"][std::string(1, char('A' + i))].get<double>(), want.probs[i], 1e-12);
  }
  res = http.Post("/v1/simulate", json{{"text", {{"profile", 3}}}}.dump(), "application/json");
  EXPECT_EQ(res->status, 400);
  res = http.Post("/v1/simulate", json{{"scene", scene}, {"prompt", "no-such-prompt"}}.dump(),
                  "application/json");
  EXPECT_EQ(res->status, 400);
}

}  // namespace
}  // namespace um
