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

}  // namespace
}  // namespace um
