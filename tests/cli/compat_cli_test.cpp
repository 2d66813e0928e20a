// `--compat reference` on the command line: accepted by prepare, scenes, distil, evaluate and train,
// wired to the library's Compat (docs/reference-differences.md); bad values and missing inputs fail
// with the option named.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/shared_data.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out;  // stdout and stderr
};

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

std::string exe() { return (um::testing::binary_dir() / "usermirror").string(); }

size_t lines(const fs::path& p) {
  std::ifstream in(p);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) n += !l.empty();
  return n;
}

// ml-1m in the official "::" layout: 6 users with 6 ratings each, and user 7 without ratings.
fs::path tiny_ml1m() {
  const fs::path dir = um::testing::temp_dir("compat-cli-raw");
  std::ofstream r(dir / "ratings.dat"), m(dir / "movies.dat"), u(dir / "users.dat");
  for (int i = 1; i <= 12; ++i) m << i << "::Movie " << i << " (1990)::Drama\n";
  for (int user = 1; user <= 6; ++user) {
    for (int k = 0; k < 6; ++k)
      r << user << "::" << 1 + (user + 2 * k) % 12 << "::4::" << 978300000 + 1000 * k + user << "\n";
  }
  for (int user = 1; user <= 7; ++user) u << user << "::F::" << (user == 1 ? 50 : 25) << "::1::12345\n";
  return dir;
}

}  // namespace

TEST(CompatCli, PrepareAndScenes) {
  const fs::path raw = tiny_ml1m();
  const fs::path ours = um::testing::temp_dir("compat-cli-ours"),
                 ref = um::testing::temp_dir("compat-cli-ref");
  Result a = sh(exe() + " prepare --dataset ml-1m --raw " + raw.string() + " --work " + ours.string());
  ASSERT_EQ(a.code, 0) << a.out;
  Result b = sh(exe() + " prepare --dataset ml-1m --compat reference --raw " + raw.string() + " --work " +
                ref.string());
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_EQ(lines(ours / "raws" / "ml-1m_user_feature.jsonl"), 6u);
  EXPECT_EQ(lines(ref / "raws" / "ml-1m_user_feature.jsonl"), 7u);

  Result bad =
      sh(exe() + " scenes --dataset ml-1m --work " + ref.string() + " --split eval --compat authors");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("--compat"), std::string::npos) << bad.out;
  // The reference always ranks with the content scorer: without vectors the switch says what to pass.
  Result novec =
      sh(exe() + " scenes --dataset ml-1m --work " + ref.string() + " --split eval --compat reference");
  EXPECT_NE(novec.code, 0);
  EXPECT_NE(novec.out.find("content-vectors"), std::string::npos) << novec.out;
  Result ok = sh(exe() + " scenes --dataset ml-1m --work " + ref.string() +
                 " --split eval --compat reference --scorers random --reference-positions=false "
                 "--collaborative-full-history=false --min-exposure 2 --max-exposure 3 --samples 5");
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST(CompatCli, EveryStageAcceptsTheSwitch) {
  // A build without libtorch (the sanitizer tree) has no train command at all.
  const bool have_train = sh(exe() + " --help").out.find("\n  train ") != std::string::npos;
  for (const std::string cmd : {"prepare", "scenes", "distil", "evaluate", "train sft", "train dpo"}) {
    if (cmd.starts_with("train") && !have_train) continue;
    Result r = sh(exe() + " " + cmd + " --help");
    if (r.out.find("not built") != std::string::npos) continue;  // e.g. train without libtorch
    EXPECT_NE(r.out.find("--compat"), std::string::npos) << cmd << ":\n" << r.out;
  }
}
