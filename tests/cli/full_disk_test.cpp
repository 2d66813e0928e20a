// A full disk, seen from outside: the `usermirror` binary itself runs `prepare`, `scenes` and `arena`
// under a file-size limit (prlimit --fsize, SIGXFSZ ignored), so every write past the limit fails
// the way a full disk fails, wherever in the process it happens (the in-process WriteFault tests
// cover the library calls). Each interrupted command must exit non-zero with a message that names
// the file under the work folder, leave no file that differs from the uninterrupted run's (nothing
// that looks complete but is not, no temporary), and a rerun without the limit must give the
// uninterrupted run's bytes (docs/reliability.md "Full disk, end to end").
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "common/shared_data.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr together
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `command` with bash, output through a pipe (a pipe is not subject to the file-size limit).
Result bash(const std::string& command) {
  Result r;
  const std::string cmd = "bash -c " + quote(command + " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Files under `dir` by relative path, with their bytes.
std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  }
  return out;
}

// Files whose bytes legitimately differ between two complete runs: the binary cache of the raw
// tables stamps the JSONL files' (size, mtime); report summaries carry wall times.
bool compared_by_presence(const std::string& rel) {
  return rel.ends_with(".umds") || rel.ends_with("summary.json");
}

std::string um() { return quote((um::testing::binary_dir() / "usermirror").string()); }

bool have_prlimit() { return bash("command -v prlimit >/dev/null").code == 0; }

// One command of the chain, run in `work` (whose earlier stages' outputs are already there).
using Command = std::string (*)(const fs::path& work);

std::string prepare_cmd(const fs::path& work) {
  const fs::path raw = um::testing::source_dir() / "data" / "demo" / "ml-latest-small";
  return um() + " prepare --dataset ml-latest-small --raw " + quote(raw.string()) + " --work " +
         quote(work.string());
}
std::string scenes_cmd(const fs::path& work) {
  // Cheap scorers: the scene file is what is written here (the sanitizer build runs this nine times).
  return um() +
         " scenes --dataset ml-latest-small --split eval --samples 64 --seed 3 --threads 2 "
         "--scorers random,popularity --work " +
         quote(work.string());
}
std::string arena_cmd(const fs::path& work) {
  return um() + " arena --dataset ml-latest-small --recommenders random,pop,itemknn --users 12 " +
         "--simulator baseline:popularity --controls baseline:uniform --no-figures --bootstrap 50 --seed 5 " +
         "--threads 2 --work " + quote(work.string());
}

// Runs commands[0..upto) without a limit into `work`.
void run_chain(const std::vector<Command>& commands, size_t upto, const fs::path& work) {
  for (size_t i = 0; i < upto; ++i) {
    Result r = bash(commands[i](work));
    ASSERT_EQ(r.code, 0) << commands[i](work) << "\n" << r.output;
  }
}

// The uninterrupted chain's files, then for each limit: a copy of the state before command `k`, the
// command under the limit, the checks, and the rerun.
void check_full_disk(const std::vector<Command>& commands, size_t k, const std::string& tag) {
  if (!have_prlimit()) GTEST_SKIP() << "prlimit (util-linux) not found";
  const fs::path scratch = um::testing::temp_dir("full-disk-" + tag);
  const fs::path before = scratch / "before", whole = scratch / "whole";
  fs::create_directories(before);
  run_chain(commands, k, before);
  if (::testing::Test::HasFatalFailure()) return;
  fs::copy(before, whole, fs::copy_options::recursive);
  {
    Result r = bash(commands[k](whole));
    ASSERT_EQ(r.code, 0) << r.output;
  }
  const auto base = files_of(before), reference = files_of(whole);
  size_t largest = 0;
  for (const auto& [rel, bytes] : reference)
    if (!base.contains(rel)) largest = std::max(largest, bytes.size());
  ASSERT_GT(largest, 2u) << "command " << k << " wrote nothing";

  for (size_t limit : {size_t{0}, largest / 3, largest - 1}) {
    SCOPED_TRACE("file-size limit " + std::to_string(limit) + " bytes");
    const fs::path work = scratch / ("limit-" + std::to_string(limit));
    fs::remove_all(work);
    fs::copy(before, work, fs::copy_options::recursive);
    const std::string cmd = commands[k](work);
    Result r = bash("trap '' XFSZ; prlimit --fsize=" + std::to_string(limit) + " " + cmd);
    EXPECT_NE(r.code, 0) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(work.string()), std::string::npos)
        << "the error does not name a file under the work folder:\n"
        << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
    // Every file left is a file of the uninterrupted run, with its bytes (or an input untouched).
    for (const auto& [rel, bytes] : files_of(work)) {
      auto it = reference.find(rel);
      if (it == reference.end()) {
        ADD_FAILURE() << "left behind a file the uninterrupted run does not have: " << rel;
        continue;
      }
      if (!compared_by_presence(rel)) {
        EXPECT_TRUE(bytes == it->second) << "partial or different: " << rel;
      }
    }
    // A rerun without the limit completes the same way as the uninterrupted run.
    Result again = bash(cmd);
    ASSERT_EQ(again.code, 0) << again.output;
    const auto after = files_of(work);
    EXPECT_EQ(after.size(), reference.size());
    for (const auto& [rel, bytes] : reference) {
      auto it = after.find(rel);
      if (it == after.end()) {
        ADD_FAILURE() << "missing after the rerun: " << rel;
      } else if (!compared_by_presence(rel)) {
        EXPECT_TRUE(it->second == bytes) << "differs after the rerun: " << rel;
      }
    }
  }
}

const std::vector<Command> kChain = {prepare_cmd, scenes_cmd, arena_cmd};

TEST(FullDisk, Prepare) { check_full_disk(kChain, 0, "prepare"); }
TEST(FullDisk, Scenes) { check_full_disk(kChain, 1, "scenes"); }
TEST(FullDisk, Arena) { check_full_disk(kChain, 2, "arena"); }

}  // namespace
