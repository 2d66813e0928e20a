// The light `usermirror` binary (src/cli/main.cpp): runs the torch-free commands itself, hands
// every other command to usermirror-engine unchanged, and never loads libtorch.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "common/shared_data.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr, in order
};

// Runs a shell command line; returns its exit code and combined output.
Result sh(const std::string& cmd) {
  Result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path light_exe() { return um::testing::binary_dir() / "usermirror"; }
fs::path engine_exe() { return um::testing::binary_dir() / UM_ENGINE_NAME; }

// A command that only the engine runs: the libtorch one when libtorch is built.
std::string engine_only_command() {
#ifdef UM_HAVE_MODEL
  return "logits";
#else
  return "decide";
#endif
}

}  // namespace

TEST(LightBinary, LightCommandsAreTheFullTableRows) {
  const auto& full = um::cli::command_table();
  ASSERT_NE(um::cli::find_command(um::cli::light_command_table(), "prepare"), nullptr);
  ASSERT_NE(um::cli::find_command(um::cli::light_command_table(), "scenes"), nullptr);
  for (const auto& cmd : um::cli::light_command_table()) {
    const um::cli::Command* row = um::cli::find_command(full, cmd.name);
    ASSERT_NE(row, nullptr) << cmd.name << " is light but not in the full table";
    EXPECT_EQ(row->help, cmd.help) << cmd.name;
  }
  EXPECT_EQ(um::cli::find_command(um::cli::light_command_table(), engine_only_command()), nullptr);
}

TEST(LightBinary, ForwardsEngineCommands) {
  const std::string name = engine_only_command();
  const um::cli::Command* row = um::cli::find_command(um::cli::command_table(), name);
  ASSERT_NE(row, nullptr);
  const Result r = sh(light_exe().string() + " " + name + " --help");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(row->help), std::string::npos) << r.out;
}

TEST(LightBinary, ForwardedExitCodeAndOutputAreTheEngines) {
  const std::string args = " " + engine_only_command() + " --no-such-option";
  const Result via_light = sh(light_exe().string() + args);
  const Result direct = sh(engine_exe().string() + args);
  EXPECT_NE(via_light.code, 0);
  EXPECT_EQ(via_light.code, direct.code);
  EXPECT_FALSE(via_light.out.empty());
  // argv[0] is passed through unchanged, so only the program name differs.
  std::string expected = direct.out;
  for (size_t at = 0; (at = expected.find(engine_exe().string(), at)) != std::string::npos;)
    expected.replace(at, engine_exe().string().size(), light_exe().string());
  EXPECT_EQ(via_light.out, expected);
}

TEST(LightBinary, TopLevelHelpListsEveryCommand) {
  const Result r = sh(light_exe().string() + " --help");
  EXPECT_EQ(r.code, 0) << r.out;
  for (const auto& cmd : um::cli::command_table()) {
    EXPECT_NE(r.out.find(cmd.name), std::string::npos) << cmd.name;
    EXPECT_NE(r.out.find(cmd.help), std::string::npos) << cmd.name;
  }
}

TEST(LightBinary, RunsLightCommandsInProcess) {
  // A copy of the light binary with no engine beside it still runs the light commands.
  const fs::path dir = um::testing::temp_dir("light-alone");
  const fs::path copy = dir / "usermirror";
  fs::copy_file(light_exe(), copy);
  const Result list =
      sh(copy.string() + " prompts list --prompts-dir " + (um::testing::source_dir() / "prompts").string());
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("reasoning-v1"), std::string::npos) << list.out;
  const Result help = sh(copy.string() + " prepare --help");
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_NE(help.out.find("--dataset"), std::string::npos) << help.out;
}

TEST(LightBinary, MissingEngineIsAClearError) {
  const fs::path dir = um::testing::temp_dir("light-no-engine");
  const fs::path copy = dir / "usermirror";
  fs::copy_file(light_exe(), copy);
  const Result r = sh(copy.string() + " " + engine_only_command() + " --help");
  EXPECT_EQ(r.code, 127) << r.out;
  EXPECT_NE(r.out.find((dir / UM_ENGINE_NAME).string()), std::string::npos) << r.out;
}

#ifdef UM_HAVE_MODEL
// libtorch is part of this build: the engine loads it (checks the pattern), the light binary not.
TEST(LightBinary, DoesNotLoadLibtorch) {
  const Result engine = sh("ldd " + engine_exe().string());
  ASSERT_EQ(engine.code, 0) << engine.out;
  ASSERT_NE(engine.out.find("libtorch"), std::string::npos) << engine.out;
  const Result light = sh("ldd " + light_exe().string());
  ASSERT_EQ(light.code, 0) << light.out;
  for (const char* lib : {"libtorch", "libc10", "libdnnl", "libopencv"})
    EXPECT_EQ(light.out.find(lib), std::string::npos) << lib << " in\n" << light.out;
}
#endif
