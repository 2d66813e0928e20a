// `usermirror run` is restartable: killed with SIGKILL at random points and rerun until it
// finishes, it produces final outputs byte-identical to an uninterrupted run (issue 6). Uses the
// real binary, the bundled demo data and a tiny random model the run creates itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/shared_data.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_config(const fs::path& file, const fs::path& work, const fs::path& tokenizer) {
  std::ofstream out(file);
  out << "[run]\nwork = \"" << work.string() << "\"\nseed = 3\nthreads = 2\n\n"
      << "[[datasets]]\nname = \"ml-latest-small\"\nraw = \""
      << (um::testing::source_dir() / "data/demo/ml-latest-small").string() << "\"\n"
      << "eval_samples = 4\ntrain_samples = 6\n\n"
      << "[models]\ntiny_tokenizer = \"" << tokenizer.string() << "\"\n\n"
      << "[decide]\nn = 2\nmax_tokens = 6\n\n[distil]\nname = \"t\"\n\n"
      << "[evaluate]\nmodes = [\"direct\", \"reasoning\"]\nrepeats = 2\nmax_tokens = 6\n";
}

// Runs `usermirror run config`; when kill_after_ms >= 0, SIGKILLs it after that long. Returns the
// exit status (or -signal).
int run(const fs::path& config, int kill_after_ms) {
  const fs::path exe = um::testing::binary_dir() / "usermirror";
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::setenv("UM_NO_PROGRESS", "1", 1);
    ::execl(exe.c_str(), exe.c_str(), "run", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (kill_after_ms >= 0) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid)
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

const std::vector<std::string> kOutputs = {
    "raws/ml-latest-small_interaction.jsonl",
    "datasets/ml-latest-small_eval.jsonl",
    "datasets/ml-latest-small_train.jsonl",
    "decisions/ml-latest-small_decisions_strong.jsonl",
    "decisions/ml-latest-small_decisions_weak.jsonl",
    "probs/ml-latest-small_probs_strong.jsonl",
    "probs/ml-latest-small_probs_weak.jsonl",
    "datasets/t_pref.jsonl",
    "datasets/t_sft.jsonl",
    "datasets/t_scene_metrics.jsonl",
    "eval/direct/predictions.jsonl",
    "eval/direct/report.json",
    "eval/reasoning/predictions.jsonl",
    "eval/reasoning/report.json",
};

}  // namespace

TEST(RunResume, KilledAtRandomPointsEqualsUninterrupted) {
#ifndef UM_HAVE_MODEL
  GTEST_SKIP() << "this build has no model component (the run needs the embedded engine's tiny model)";
#endif
  UM_REQUIRE_SHARED(tokenizer, "tokenizers/qwen3");
  auto dir = um::testing::temp_dir("resume");
  write_config(dir / "a.toml", dir / "a", tokenizer);
  write_config(dir / "b.toml", dir / "b", tokenizer);

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run(dir / "a.toml", -1), 0) << "uninterrupted run failed";
  int full_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());

  // Kill points spread over the whole run (so every stage gets interrupted somewhere), seeded. A
  // run that finished before its kill point (this one ran faster than the timed one, e.g. on a
  // machine busy with other tests during the first) proves nothing: start over from an empty work
  // directory with kill points drawn from the first half of the range.
  std::mt19937 gen(12345);
  int kills = 0, rc = 1, upper = std::max(100, full_ms);
  for (int round = 0; round < 4 && kills == 0; ++round) {
    if (round > 0) {
      fs::remove_all(dir / "b");
      upper = std::max(100, upper / 2);
    }
    std::uniform_int_distribution<int> when(50, upper);
    rc = 1;
    for (int attempt = 0; attempt < 8 && rc != 0; ++attempt) {
      rc = run(dir / "b.toml", when(gen));
      if (rc != 0) ++kills;
    }
  }
  if (rc != 0) rc = run(dir / "b.toml", -1);
  ASSERT_EQ(rc, 0) << "the resumed run did not finish";
  EXPECT_GT(kills, 0) << "no run was interrupted; the test proved nothing";
  for (const auto& f : kOutputs) {
    ASSERT_TRUE(fs::exists(dir / "a" / f)) << f;
    ASSERT_TRUE(fs::exists(dir / "b" / f)) << f;
    EXPECT_EQ(slurp(dir / "a" / f), slurp(dir / "b" / f)) << f << " differs after kill/resume";
  }
  // A rerun of a complete work directory skips every stage and changes nothing.
  auto before = slurp(dir / "b" / "datasets/t_pref.jsonl");
  ASSERT_EQ(run(dir / "b.toml", -1), 0);
  EXPECT_EQ(before, slurp(dir / "b" / "datasets/t_pref.jsonl"));
}
