// A real third-party client: the official `openai` npm package (pinned) calls our server for chat
// completions (n, seed, stop, logprobs), streaming (with per-token logprobs and usage), completions
// with logprobs and streamed completions. The test installs
// the package into <build>/npm-openai (offline: skips, or fails under CI=true).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/shared_data.h"
#include "serve/fake_backend.h"
#include "serve/serve_test_util.h"

namespace um {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPackage = "openai@4.104.0";

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

fs::path package_dir(std::string* why) {
  fs::path dir = um::testing::binary_dir() / "npm-openai";
  if (fs::exists(dir / "node_modules" / "openai" / "package.json")) return dir;
  if (run("node --version > /dev/null 2>&1") != 0) {
    *why = "node is not installed";
    return {};
  }
  fs::create_directories(dir);
  if (run("npm install --silent --no-audit --no-fund --prefix " + quote(dir) + " " + kPackage + " > " +
          quote(dir / "install.log") + " 2>&1") != 0) {
    *why = std::string("npm install ") + kPackage + " failed (see " + (dir / "install.log").string() + ")";
    return {};
  }
  return dir;
}

std::string capture(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  *rc = status == -1 ? -1 : WEXITSTATUS(status);
  return out;
}

TEST(OpenAINpmClient, ChatStreamingAndCompletionsWithLogprobs) {
  std::string why;
  fs::path dir = package_dir(&why);
  if (dir.empty()) {
    if (um::testing::in_ci()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  testing::FakeBackend fake;
  serve::ServeOptions opts;
  opts.api_key = "npm-test-key";
  testing::RunningServer srv(fake, opts);
  fs::path script = um::testing::source_dir() / "tests" / "oracles" / "openai_client" / "client.js";
  int rc = 0;
  std::string out = capture(
      "node " + quote(script) + " " + quote(dir) + " " + srv.base() + " npm-test-key fake-sim 2>&1", &rc);
  ASSERT_EQ(rc, 0) << out;
  json j = json::parse(out);

  EXPECT_EQ(j["models"], json::array({"fake-sim"}));

  backend::GenerateRequest req{
      .key = "x", .messages = {{"system", "You simulate a user."}, {"user", "Pick one: [A] x [B] y"}}};
  req.sampling.n = 2;
  req.sampling.max_tokens = 6;
  req.sampling.seed = 11;
  req.sampling.stop = {"Behavior: ["};
  req.top_logprobs = 3;
  backend::GenerateResult want = fake.generate_one(req);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(j["chat"]["texts"][i], want.samples[i].text);
    EXPECT_EQ(j["chat"]["finish"][i], want.samples[i].finish_reason);
  }
  EXPECT_EQ(j["chat"]["first_token"], want.samples[0].logprobs[0].token);
  ASSERT_EQ(j["chat"]["first_top"].size(), 3u);
  EXPECT_NEAR(j["chat"]["first_top"][1][1].get<double>(), want.samples[0].logprobs[0].top[1].logprob, 1e-12);
  EXPECT_EQ(j["chat"]["usage"]["completion_tokens"], want.completion_tokens);

  req.top_logprobs = -1;
  backend::GenerateResult plain = fake.generate_one(req);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(j["stream"]["texts"][i], plain.samples[i].text);
    EXPECT_EQ(j["stream"]["finish"][i], plain.samples[i].finish_reason);
  }
  EXPECT_GT(j["stream"]["chunks"].get<int>(), 4);

  // Streamed with logprobs: the texts, one logprob entry per token (3 alternatives each) and usage.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(j["stream_logprobs"]["texts"][i], want.samples[i].text);
    const json& toks = j["stream_logprobs"]["tokens"][i];
    ASSERT_EQ(toks.size(), want.samples[i].logprobs.size());
    for (size_t t = 0; t < toks.size(); ++t) {
      EXPECT_EQ(toks[t][0], want.samples[i].logprobs[t].token);
      EXPECT_NEAR(toks[t][1].get<double>(), want.samples[i].logprobs[t].logprob, 1e-12);
      EXPECT_EQ(toks[t][2], 3);
    }
  }
  ASSERT_TRUE(j["stream_logprobs"]["usage"].is_object());
  EXPECT_EQ(j["stream_logprobs"]["usage"]["completion_tokens"], want.completion_tokens);

  auto ranked = testing::FakeBackend::letter_logprobs("rendered prompt\nBehavior: [");
  EXPECT_EQ(j["completion"]["text"], ranked[0].first);
  ASSERT_EQ(j["completion"]["top"].size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_NEAR(j["completion"]["top"][ranked[k].first].get<double>(), ranked[k].second, 1e-12);
  }
  backend::GenerateRequest ids{.key = "t", .prompt_tokens = {101, 102, 103}};
  ids.sampling.max_tokens = 3;
  ids.sampling.seed = 5;
  EXPECT_EQ(j["token_prompt"]["text"], fake.generate_one(ids).samples[0].text);
  EXPECT_EQ(j["completion_stream"]["text"], fake.generate_one(ids).samples[0].text);
  EXPECT_EQ(j["completion_stream"]["finish"], "length");
  ASSERT_TRUE(j["completion_stream"]["usage"].is_object());
  EXPECT_EQ(j["completion_stream"]["usage"]["completion_tokens"], 3);

  EXPECT_EQ(j["unknown_model"]["status"], 404);
  EXPECT_EQ(j["unknown_model"]["code"], "model_not_found");
}

}  // namespace
}  // namespace um
