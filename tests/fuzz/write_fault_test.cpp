// Injected write failures (issue 14, docs/reliability.md): `prepare`, `scenes`, a request store
// append and `distil` run in a forked child with RLIMIT_FSIZE set and SIGXFSZ ignored, so a write past the
// limit fails with EFBIG as on a full disk. Each must end with util::Error naming the file, leave no output
// that looks complete but is not, and a rerun without the limit must produce the bytes of an
// uninterrupted run.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "backend/request_store.h"
#include "common/shared_data.h"
#include "data/data.h"
#include "data/prepare.h"
#include "distil/distil.h"
#include "scene/scene.h"
#include "support/synthetic_inputs.h"
#include "util/error.h"

namespace um::fuzz {
namespace {

namespace fs = std::filesystem;

struct ChildResult {
  int status = -1;  // 0 ok, 3 util::Error, 4 other exception, else signal / odd exit
  std::string message;
};

// Runs fn in a forked child whose files may not grow past `limit` bytes.
ChildResult run_with_file_size_limit(rlim_t limit, const std::function<void()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit rl{};
    ::getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = limit;
    ::setrlimit(RLIMIT_FSIZE, &rl);
    int code = 0;
    std::string msg = "ok";
    try {
      fn();
    } catch (const util::Error& e) {
      code = 3;
      msg = e.what();
    } catch (const std::exception& e) {
      code = 4;
      msg = e.what();
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(code);
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.message.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// Files under root by relative path. The binary dataset cache (raws/<DS>.umds) stamps the JSONL files'
// (size, mtime), so its bytes differ between runs by design: only its presence is compared.
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string name = fs::relative(e.path(), root).string();
    if (name.ends_with(".umds")) {
      out[name] = "(cache)";
      continue;
    }
    std::ifstream in(e.path(), std::ios::binary);
    out[name] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

// Every file present after the failure is a complete output of the uninterrupted run.
void expect_only_complete_files(const fs::path& work, const std::map<std::string, std::string>& ref) {
  for (const auto& [name, bytes] : tree(work)) {
    auto it = ref.find(name);
    ASSERT_NE(it, ref.end()) << "left behind after the failure: " << (work / name);
    EXPECT_EQ(bytes == it->second, true) << "incomplete output that looks complete: " << (work / name);
  }
}

void expect_same_tree(const std::map<std::string, std::string>& got,
                      const std::map<std::string, std::string>& ref) {
  ASSERT_EQ(got.size(), ref.size());
  for (const auto& [name, bytes] : ref) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    EXPECT_TRUE(it->second == bytes) << name << " differs from the uninterrupted run";
  }
}

fs::path raw_fixture_copy(const std::string& folder) {
  fs::path out = testing::temp_dir("fault-raw-" + folder);
  for (const auto& e : fs::directory_iterator(testing::source_dir() / "tests/fixtures/raw" / folder)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".fixture")) name.resize(name.size() - 8);
    fs::copy(e.path(), out / name, fs::copy_options::recursive);
  }
  return out;
}

TEST(WriteFault, PrepareFailsCleanlyAndRerunMatches) {
  const std::string ds = "MIND";
  fs::path raw = raw_fixture_copy("mind-dev");
  fs::path base = testing::temp_dir("fault-prepare");
  data::prepare({.dataset = ds, .raw_dir = raw, .work_dir = base / "ref"});
  auto ref = tree(base / "ref");
  ASSERT_FALSE(ref.empty());
  size_t largest = 0;
  for (const auto& [_, b] : ref) largest = std::max(largest, b.size());
  int failures = 0;
  for (rlim_t limit : {rlim_t{0}, rlim_t{64}, rlim_t{largest / 3}, rlim_t{largest - 1}}) {
    fs::path work = base / ("limit-" + std::to_string(limit));
    ChildResult r = run_with_file_size_limit(
        limit, [&] { data::prepare({.dataset = ds, .raw_dir = raw, .work_dir = work}); });
    ASSERT_EQ(r.status, 3) << "limit " << limit << ": " << r.message;
    ++failures;
    EXPECT_NE(r.message.find(work.string()), std::string::npos)
        << "the error names no output file: " << r.message;
    expect_only_complete_files(work, ref);
    data::prepare({.dataset = ds, .raw_dir = raw, .work_dir = work});
    expect_same_tree(tree(work), ref);
  }
  EXPECT_EQ(failures, 4);
}

TEST(WriteFault, ScenesFailCleanlyAndRerunMatches) {
  UM_REQUIRE_SHARED(raw, "data/ml-100k");
  fs::path base = testing::temp_dir("fault-scenes");
  fs::path prepared = base / "prepared";
  data::prepare({.dataset = "ml-100k", .raw_dir = raw, .work_dir = prepared});
  auto scenes = [&](const fs::path& work) {
    scene::ScenesOptions o;
    o.work = work;
    o.dataset = "ml-100k";
    o.split = "eval";
    o.samples = 48;
    o.shape = {.min_options = 5, .max_options = 5};
    o.progress = false;
    o.threads = 1;
    o.scorers = {"popularity", "random"};  // no embedding training: keeps the test short under ASan
    scene::run_scenes(o);
  };
  fs::copy(prepared, base / "ref", fs::copy_options::recursive);
  scenes(base / "ref");
  auto ref = tree(base / "ref");
  const std::string out = "datasets/ml-100k_eval.jsonl";
  ASSERT_TRUE(ref.count(out));
  for (rlim_t limit : {rlim_t{0}, rlim_t{ref[out].size() / 2}}) {
    fs::path work = base / ("limit-" + std::to_string(limit));
    fs::copy(prepared, work, fs::copy_options::recursive);
    ChildResult r = run_with_file_size_limit(limit, [&] { scenes(work); });
    ASSERT_EQ(r.status, 3) << "limit " << limit << ": " << r.message;
    EXPECT_NE(r.message.find(work.string()), std::string::npos) << "the error names no file: " << r.message;
    expect_only_complete_files(work, ref);
    EXPECT_FALSE(fs::exists(work / out));
    scenes(work);
    expect_same_tree(tree(work), ref);
  }
}

TEST(WriteFault, DistilFailsCleanlyAndRerunMatches) {
  fs::path base = testing::temp_dir("fault-distil");
  fs::path inputs = base / "inputs";
  distil::SyntheticSpec spec;
  spec.scenes = 120;
  spec.rationales = 3;
  spec.rationale_chars = 200;
  spec.max_options = 6;
  spec.seed = 5;
  distil::write_synthetic_distil_inputs(inputs, "dsA", spec);
  std::ofstream(inputs / "system.txt") << "You are a test system prompt.\n";
  auto distil = [&](const fs::path& work) {
    distil::DistilOptions o;
    o.work_dir = work;
    o.datasets = {"dsA"};
    o.select = 40;
    o.system_prompt_file = work / "system.txt";
    o.progress = false;
    o.threads = 1;
    distil::run_distil(o);
  };
  fs::copy(inputs, base / "ref", fs::copy_options::recursive);
  distil(base / "ref");
  auto ref = tree(base / "ref");
  const auto in = tree(inputs);
  size_t largest = 0, outputs = 0;
  for (const auto& [name, bytes] : ref) {
    if (in.count(name)) continue;
    ++outputs;
    largest = std::max(largest, bytes.size());
  }
  ASSERT_EQ(outputs, 3u) << "pref, sft and scene-metrics files";
  for (rlim_t limit : {rlim_t{0}, rlim_t{largest / 2}, rlim_t{largest - 1}}) {
    fs::path work = base / ("limit-" + std::to_string(limit));
    fs::copy(inputs, work, fs::copy_options::recursive);
    ChildResult r = run_with_file_size_limit(limit, [&] { distil(work); });
    ASSERT_EQ(r.status, 3) << "limit " << limit << ": " << r.message;
    EXPECT_NE(r.message.find(work.string()), std::string::npos) << "the error names no file: " << r.message;
    expect_only_complete_files(work, ref);
    distil(work);
    expect_same_tree(tree(work), ref);
  }
}

TEST(WriteFault, RequestStoreAppendFailsAndResumes) {
  fs::path base = testing::temp_dir("fault-store");
  auto key = [](int i) { return "ml-1m-" + std::to_string(i) + "/teacher/0"; };
  auto value = [](int i) { return R"({"choices":["answer )" + std::to_string(i) + R"( \u00e9"]})"; };
  const int n = 40;
  {
    backend::RequestStore s(base / "ref.store.jsonl", "decide");
    for (int i = 0; i < n; ++i) s.put(key(i), value(i));
  }
  std::string ref = tree(base)["ref.store.jsonl"];
  fs::path p = base / "cut.store.jsonl";
  ChildResult r = run_with_file_size_limit(ref.size() / 2, [&] {
    backend::RequestStore s(p, "decide");
    for (int i = 0; i < n; ++i) s.put(key(i), value(i));
  });
  ASSERT_EQ(r.status, 3) << r.message;
  EXPECT_NE(r.message.find(p.string()), std::string::npos) << r.message;
  // Reopening drops the torn final line; the stored keys are a prefix; resuming gives the same bytes.
  backend::RequestStore s(p, "decide");
  EXPECT_GT(s.truncated_bytes(), 0u);  // the write was cut mid-line
  size_t kept = s.size();
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, static_cast<size_t>(n));
  for (size_t i = 0; i < kept; ++i) EXPECT_TRUE(s.contains(key(static_cast<int>(i))));
  for (int i = 0; i < n; ++i) s.put(key(i), value(i));
  EXPECT_TRUE(tree(base)["cut.store.jsonl"] == ref);
}

}  // namespace
}  // namespace um::fuzz
