// `serve` over the embedded engine (tiny random Qwen3-architecture model, real Qwen3 tokenizer),
// scored through our OpenAI client: the HTTP path (one token, logprobs, allowed_token_ids) must give
// the embedded backend's own letter distribution. Built only with the model and text components.
#ifdef UM_BACKEND_EMBEDDED
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace um
#endif  // UM_BACKEND_EMBEDDED
