// `serve` over the embedded engine (tiny random Qwen3-architecture model, real Qwen3 tokenizer),
// scored through our OpenAI client: the HTTP path (one token, logprobs, allowed_token_ids) must give
// the embedded backend's own letter distribution. Built only with the model and text components.
#ifdef UM_BACKEND_EMBEDDED
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "common/shared_data.h"
#include "model/init.h"
#include "serve/serve_test_util.h"
#include "text/tokenizer.h"

namespace um {
namespace {

TEST(ServeEmbedded, ScoringOverHttpMatchesTheEngine) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 1;
  o.hidden = 32;
  o.heads = 2;
  o.kv_heads = 1;
  o.intermediate = 48;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 3;
  o.tokenizer_dir = tok_dir;
  o.out_dir = um::testing::temp_dir("serve-embedded");
  model::init_random_model(o);
  auto engine = backend::make_backend("local:" + o.out_dir.string() + "?dtype=f32");
  testing::RunningServer srv(*engine, {});
  const std::string name = engine->model_name();
  auto client = backend::make_backend("openai:" + srv.base() + "?model=" + name + "&allowed_token_ids=on");
  auto tok = text::Tokenizer::load(o.out_dir);

  backend::OptionRequest chat{
      .key = "c",
      .messages = {{"system", "sys"}, {"user", "scene"}, {"assistant", "Thought: ok\nBehavior: ["}},
      .letters = {"A", "B", "C", "D"},
      .letter_token_ids = text::letter_token_ids(tok, 4)};
  auto want = engine->option_distribution_one(chat);
  auto got = client->option_distribution_one(chat);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(got.probs[i], want.probs[i], 1e-5) << i;
  EXPECT_EQ(got.missing_letters, 0);

  backend::OptionRequest prompt = chat;
  prompt.messages.clear();
  prompt.prompt = "<|im_start|>user\nscene<|im_end|>\n<|im_start|>assistant\nBehavior: [";
  want = engine->option_distribution_one(prompt);
  got = client->option_distribution_one(prompt);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(got.probs[i], want.probs[i], 1e-5) << i;

  backend::GenerateRequest gen{.key = "g", .messages = {{"user", "hello"}}};
  gen.sampling.n = 2;
  gen.sampling.max_tokens = 4;
  gen.sampling.seed = 9;
  auto a = client->generate_one(gen);
  auto b = engine->generate_one(gen);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(a.samples[i].text, b.samples[i].text);
}

// Token ids a client gives that are not rows of the model (prompt token ids, allowed_token_ids,
// letter_token_ids: huge, negative, exactly vocab_size) are the client's mistake: 400
// invalid_request_error / invalid_value naming the id and the parameter, never 502, and the server
// goes on answering. The model pads its vocabulary past the tokenizer's (as Qwen2.5's does): a
// padding row is a valid prompt id, but allowed_token_ids made only of padding rows leave nothing to
// sample and are refused too.
TEST(ServeEmbedded, OutOfVocabularyTokenIdsAre400) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  using nlohmann::json;
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 1;
  o.hidden = 32;
  o.heads = 2;
  o.kv_heads = 1;
  o.intermediate = 48;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 5;
  o.tokenizer_dir = tok_dir;
  const int64_t tok_vocab = model::tokenizer_vocab_size(tok_dir / "tokenizer.json");
  o.vocab = tok_vocab + 64;
  o.out_dir = um::testing::temp_dir("serve-embedded-oov");
  const int64_t vocab = model::init_random_model(o).vocab_size;
  ASSERT_EQ(vocab, tok_vocab + 64);
  auto engine = backend::make_backend("local:" + o.out_dir.string() + "?dtype=f32");
  testing::RunningServer srv(*engine, {});
  const std::string name = engine->model_name();
  httplib::Client http("127.0.0.1", srv.port);
  http.set_read_timeout(120);
  auto post = [&](const std::string& path, const json& body) {
    return http.Post(path.c_str(), body.dump(), "application/json");
  };
  auto expect_400 = [&](const std::string& path, const json& body, const std::string& id,
                        const std::string& param) {
    SCOPED_TRACE(path + " " + body.dump());
    auto res = post(path, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    json j = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << res->body;
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_EQ(j["error"]["code"], "invalid_value");
    EXPECT_EQ(j["error"]["param"], param);
    EXPECT_NE(j["error"]["message"].get<std::string>().find(id), std::string::npos) << "names no id " << id;
  };
  const std::string V = std::to_string(vocab);
  const json msgs = {{{"role", "user"}, {"content", "hello"}}};
  for (int64_t bad : {int64_t{999999999}, vocab, int64_t{INT32_MAX}}) {
    const std::string b = std::to_string(bad);
    expect_400("/v1/completions", {{"model", name}, {"prompt", {1, bad}}, {"max_tokens", 2}}, b, "prompt");
    expect_400("/v1/completions", {{"model", name}, {"prompt", {{5, 6}, {bad}}}, {"max_tokens", 2}}, b,
               "prompt");
    expect_400("/v1/completions",
               {{"model", name}, {"prompt", "hi"}, {"max_tokens", 3}, {"allowed_token_ids", {1, bad}}}, b,
               "allowed_token_ids");
    // max_tokens 1 with logprobs: the one-token scoring path.
    expect_400(
        "/v1/completions",
        {{"model", name}, {"prompt", "hi"}, {"max_tokens", 1}, {"logprobs", 2}, {"allowed_token_ids", {bad}}},
        b, "allowed_token_ids");
    expect_400("/v1/chat/completions",
               {{"model", name}, {"messages", msgs}, {"max_tokens", 2}, {"allowed_token_ids", {bad}}}, b,
               "allowed_token_ids");
    expect_400("/v1/simulate", {{"messages", msgs}, {"options", 2}, {"letter_token_ids", {32, bad}}}, b,
               "letter_token_ids");
  }
  // Negative ids and ids beyond int32 are refused while the body is read.
  expect_400("/v1/completions", {{"model", name}, {"prompt", {-1}}}, "-1", "prompt");
  expect_400("/v1/completions", {{"model", name}, {"prompt", {int64_t{99999999999}}}}, "99999999999",
             "prompt");
  expect_400("/v1/completions", {{"model", name}, {"prompt", "hi"}, {"allowed_token_ids", {-7}}}, "-7",
             "allowed_token_ids");
  expect_400("/v1/simulate", {{"messages", msgs}, {"options", 2}, {"letter_token_ids", {-1, 33}}}, "-1",
             "letter_token_ids");
  // Only padding rows allowed: nothing could be sampled.
  expect_400("/v1/completions",
             {{"model", name}, {"prompt", "hi"}, {"max_tokens", 2}, {"allowed_token_ids", {vocab - 1}}},
             "allowed_token_ids", "allowed_token_ids");

  // A stream has sent its 200 before the engine sees the ids: it ends with the same error as an event.
  auto streamed =
      post("/v1/completions", {{"model", name}, {"prompt", {vocab}}, {"max_tokens", 2}, {"stream", true}});
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 200);
  const std::string& sse = streamed->body;
  const size_t at = sse.find("data: {\"error\"");
  ASSERT_NE(at, std::string::npos) << sse;
  json ev = json::parse(sse.substr(at + 6, sse.find("\n\n", at) - at - 6));
  EXPECT_EQ(ev["error"]["type"], "invalid_request_error");
  EXPECT_EQ(ev["error"]["code"], "invalid_value");
  EXPECT_NE(ev["error"]["message"].get<std::string>().find(V), std::string::npos) << sse;
  EXPECT_NE(sse.find("data: [DONE]"), std::string::npos) << sse;

  EXPECT_EQ(srv.server->stats().errors_5xx, 0);
  // The server still answers valid requests, padding-row prompt ids included.
  auto ok = post("/v1/completions",
                 {{"model", name}, {"prompt", {1, 2, vocab - 1}}, {"max_tokens", 3}, {"temperature", 0}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["choices"].size(), 1u);
  auto sim =
      post("/v1/simulate", {{"messages", msgs}, {"options", 2}, {"letter_token_ids", {32, 33}}, {"seed", 1}});
  ASSERT_TRUE(sim);
  EXPECT_EQ(sim->status, 200) << sim->body;
  EXPECT_EQ(json::parse(sim->body)["distribution"].size(), 2u);
  EXPECT_EQ(srv.server->stats().errors_5xx, 0);
}

}  // namespace
}  // namespace um
#endif  // UM_BACKEND_EMBEDDED
