#pragma once
// Runs tests/oracles/jinja/render.py (Debian's python3-jinja2, configured like transformers) on a
// batch of cases. Absent /usr/bin/python3 or jinja2, tests skip (and fail under CI=true).
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/shared_data.h"

namespace um::testing {

struct OracleResult {
  bool ok = false;
  std::string text;  // rendered text, or the error message
};

// `cases`: a JSON array of {"template", "messages", "add_generation_prompt", "continue_final_message",
// "vars"}. Returns nullopt (after recording why) when the oracle cannot run.
inline std::optional<std::vector<OracleResult>> run_jinja_oracle(const nlohmann::ordered_json& cases,
                                                                 std::string& why) {
  if (std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") != 0) {
    why = "/usr/bin/python3 with jinja2 is not available";
    return std::nullopt;
  }
  auto dir = temp_dir("jinja-oracle");
  auto in = dir / "cases.json";
  auto out = dir / "out.json";
  {
    std::ofstream f(in, std::ios::binary);
    f << cases.dump();
  }
  auto script = source_dir() / "tests/oracles/jinja/render.py";
  std::string cmd = "/usr/bin/python3 '" + script.string() + "' '" + in.string() + "' '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    why = "oracle script failed: " + cmd;
    return std::nullopt;
  }
  std::ifstream f(out, std::ios::binary);
  auto results = nlohmann::json::parse(f);
  std::vector<OracleResult> v;
  for (const auto& r : results) {
    if (r.contains("ok")) {
      v.push_back({true, r["ok"].get<std::string>()});
    } else {
      v.push_back({false, r["error"].get<std::string>()});
    }
  }
  return v;
}

}  // namespace um::testing

#define UM_REQUIRE_ORACLE(var, cases)                             \
  std::vector<::um::testing::OracleResult> var;                   \
  do {                                                            \
    std::string um_why_;                                          \
    auto um_r_ = ::um::testing::run_jinja_oracle(cases, um_why_); \
    if (!um_r_) {                                                 \
      if (::um::testing::in_ci()) FAIL() << um_why_;              \
      GTEST_SKIP() << um_why_;                                    \
    }                                                             \
    var = std::move(*um_r_);                                      \
  } while (0)
