#pragma once
// Access to ../shared (real datasets and tokenizers) from tests.
//
// Tests that need ../shared run whenever it exists. Under CI (CI=true) its absence is a failure;
// elsewhere such tests skip themselves with the reason, so a user's clone still passes.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace um::testing {

// The shared folder beside the source tree (UM_SHARED_DIR overrides), if it exists.
std::optional<std::filesystem::path> shared_dir();

// Path of a file or folder under shared/, or nullopt if absent.
std::optional<std::filesystem::path> shared_path(const std::string& relative);

// Source and build roots, for test fixtures and the CLI binary.
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// A fresh empty temporary directory, removed at process exit.
std::filesystem::path temp_dir(const std::string& tag);

// True when the CI environment variable is "true".
bool in_ci();

}  // namespace um::testing

// Resolves `relative` under shared/ into `var`; skips (or fails under CI) when it is missing.
#define UM_REQUIRE_SHARED(var, relative)                                                 \
  std::filesystem::path var;                                                             \
  do {                                                                                   \
    auto um_p_ = ::um::testing::shared_path(relative);                                   \
    if (!um_p_) {                                                                        \
      if (::um::testing::in_ci()) {                                                      \
        FAIL() << "../shared/" << (relative) << " is missing, and CI=true requires it";  \
      }                                                                                  \
      GTEST_SKIP() << "../shared/" << (relative) << " not found beside the source tree"; \
    }                                                                                    \
    var = *um_p_;                                                                        \
  } while (0)
