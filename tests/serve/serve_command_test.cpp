// `usermirror serve` as a process: prints "listening on http://HOST:PORT" once ready, serves, and
// exits 0 on SIGTERM after finishing in-flight requests.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "common/shared_data.h"
#ifdef UM_BACKEND_EMBEDDED
#include "model/init.h"
#endif

namespace um {
namespace {

TEST(ServeCommand, PrintsListeningServesAndStopsOnSigterm) {
  auto exe = um::testing::binary_dir() / "usermirror";
  if (!std::filesystem::exists(exe)) {
    if (um::testing::in_ci()) FAIL() << exe << " is not built";
    GTEST_SKIP() << exe << " is not built";
  }
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(exe.c_str(), exe.c_str(), "serve", "--backend",
          "openai:http://127.0.0.1:9/v1?model=upstream&retries=0", "--port", "0", "--served-model-name",
          "sim", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {0};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr) << "no output from usermirror serve";
  std::cmatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(^listening on http://127\.0\.0\.1:(\d+)\n$)")))
      << line;
  int port = std::stoi(m[1]);
  httplib::Client http("127.0.0.1", port);
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = http.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_NE(models->body.find("\"sim\""), std::string::npos);
  // The upstream is down: a 502 with an OpenAI error body, and the server keeps serving.
  auto chat = http.Post("/v1/chat/completions",
                        R"({"model":"sim","messages":[{"role":"user","content":"x"}]})", "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 502);
  EXPECT_NE(chat->body.find("\"error\""), std::string::npos);
  http.stop();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(f);
}

#ifdef UM_BACKEND_EMBEDDED
// --request-timeout reaches the server: a generation that cannot end early (allowed_token_ids holds
// one ordinary token, max_tokens one million) on a tiny model is cut at the limit with 504, and the
// process still stops cleanly on SIGTERM.
TEST(ServeCommand, RequestTimeoutOptionAnswers504) {
  UM_REQUIRE_SHARED(tok_dir, "tokenizers/qwen3");
  auto exe = um::testing::binary_dir() / "usermirror";
  if (!std::filesystem::exists(exe)) {
    if (um::testing::in_ci()) FAIL() << exe << " is not built";
    GTEST_SKIP() << exe << " is not built";
  }
  model::InitOptions o;
  o.arch = "qwen3";
  o.layers = 1;
  o.hidden = 32;
  o.heads = 2;
  o.kv_heads = 1;
  o.intermediate = 48;
  o.tie_embeddings = true;
  o.dtype = "f32";
  o.seed = 4;
  o.tokenizer_dir = tok_dir;
  o.out_dir = um::testing::temp_dir("serve-command-timeout");
  model::init_random_model(o);
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(exe.c_str(), exe.c_str(), "serve", "--model", o.out_dir.c_str(), "--port", "0", "--request-timeout",
          "0.5", "--max-tokens-limit", "1000000", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {0};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr) << "no output from usermirror serve";
  std::cmatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(^listening on http://127\.0\.0\.1:(\d+)\n$)")))
      << line;
  httplib::Client http("127.0.0.1", std::stoi(m[1]));
  http.set_read_timeout(300);
  const std::string body = R"({"model":")" + o.out_dir.filename().string() +
                           R"(","prompt":"x","max_tokens":1000000,"allowed_token_ids":[1000]})";
  auto res = http.Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504) << res->body;
  EXPECT_NE(res->body.find("\"timeout_error\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("0.5 s limit"), std::string::npos) << res->body;
  http.stop();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(f);
}
#endif  // UM_BACKEND_EMBEDDED

}  // namespace
}  // namespace um
