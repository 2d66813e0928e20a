#include "common/shared_data.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <random>
#include <vector>

namespace um::testing {
namespace fs = std::filesystem;

std::filesystem::path source_dir() { return fs::path(UM_SOURCE_DIR); }
std::filesystem::path binary_dir() { return fs::path(UM_BINARY_DIR); }

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::optional<fs::path> shared_dir() {
  if (const char* env = std::getenv("UM_SHARED_DIR"); env != nullptr && *env != '\0') {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  fs::path p = source_dir().parent_path() / "shared";
  if (fs::is_directory(p)) return p;
  return std::nullopt;
}

std::optional<fs::path> shared_path(const std::string& relative) {
  auto dir = shared_dir();
  if (!dir) return std::nullopt;
  fs::path p = *dir / relative;
  if (!fs::exists(p)) return std::nullopt;
  return p;
}

namespace {
std::mutex g_mu;
// Never destroyed: a function-local static constructed after the atexit registration below would be
// destroyed before cleanup() runs, which then saw an empty list and every test run left its scratch
// folders behind (a CI machine ran out of disk that way).
std::vector<fs::path>& temp_dirs() {
  static auto* dirs = new std::vector<fs::path>;
  return *dirs;
}
void cleanup() {
  if (std::getenv("UM_KEEP_TEST_TMP") != nullptr) return;
  std::error_code ec;
  for (const auto& d : temp_dirs()) fs::remove_all(d, ec);
}
}  // namespace

fs::path temp_dir(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_mu);
  static bool registered = false;
  if (!registered) {
    std::atexit(cleanup);
    registered = true;
  }
  std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               ("um-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(p);
  temp_dirs().push_back(p);
  return p;
}

}  // namespace um::testing
