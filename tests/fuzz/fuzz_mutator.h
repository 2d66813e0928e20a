#pragma once
// Seeded mutation fuzzing for the parsers of outside input (issue 14, docs/reliability.md).
//
//   FuzzBudget b = fuzz_budget(300);            // UM_FUZZ_ITERATIONS / UM_FUZZ_SECONDS override
//   Mutator m(seed_inputs, fuzz_seed("csv"));
//   for (int64_t i = 0; b.more(i); ++i) run_case("csv", m.next(), [&](const std::string& in) {...});
//
// A case passes when the parser returns or throws util::Error (util::NotSupported is one); any other
// exception fails the test and the input is saved under $TMPDIR/fuzz-failures/ for a regression
// test. Crashes, leaks and undefined behaviour are caught by ASan+UBSan (build-asan / build-fuzz).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "util/error.h"

namespace um::fuzz {

// splitmix64: fully specified, so a seed reproduces the same inputs with every standard library.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for fuzzing (n > 0).
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t s_;
};

inline uint64_t fuzz_seed(const std::string& target) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a of the target name, xor UM_FUZZ_SEED
  for (unsigned char c : target) h = (h ^ c) * 1099511628211ULL;
  if (const char* s = std::getenv("UM_FUZZ_SEED")) h ^= std::strtoull(s, nullptr, 10);
  return h;
}

struct FuzzBudget {
  int64_t iterations = 0;
  double seconds = 0;  // > 0: run until this much time has passed (iterations ignored)
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool more(int64_t i) const {
    if (seconds > 0)
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds;
    return i < iterations;
  }
};

// `default_iterations` for CI; UM_FUZZ_ITERATIONS overrides, UM_FUZZ_SECONDS (scripts/fuzz) runs by
// time instead.
inline FuzzBudget fuzz_budget(int64_t default_iterations) {
  FuzzBudget b;
  b.iterations = default_iterations;
  if (const char* s = std::getenv("UM_FUZZ_ITERATIONS")) b.iterations = std::strtoll(s, nullptr, 10);
  if (const char* s = std::getenv("UM_FUZZ_SECONDS")) b.seconds = std::strtod(s, nullptr);
  return b;
}

class Mutator {
 public:
  Mutator(std::vector<std::string> seeds, uint64_t seed) : seeds_(std::move(seeds)), rng_(seed) {
    if (seeds_.empty()) seeds_.push_back("");
  }

  // A seed input with 1-4 stacked mutations (every 16th input is a seed unchanged).
  std::string next() {
    std::string s = seeds_[rng_.below(seeds_.size())];
    if (rng_.below(16) == 0) return s;
    int n = 1 + static_cast<int>(rng_.below(4));
    for (int k = 0; k < n; ++k) mutate(s);
    if (s.size() > kMaxSize) s.resize(kMaxSize);
    return s;
  }

 private:
  static constexpr size_t kMaxSize = 1 << 16;

  void mutate(std::string& s) {
    static const char* const kTokens[] = {"\"",
                                          "'",
                                          "{",
                                          "}",
                                          "[",
                                          "]",
                                          "\n",
                                          "\r\n",
                                          "\r",
                                          "::",
                                          "\t",
                                          ",",
                                          ":",
                                          "\\",
                                          "\\u",
                                          "\\ud800",
                                          "\\udc00\\ud800",
                                          "\\x",
                                          "\\U0010ffff",
                                          "\\777",
                                          "u'",
                                          "b'",
                                          "r'",
                                          "\"\"",
                                          "'''",
                                          "\0",
                                          "\xff",
                                          "\xc3",
                                          "\xe2\x82",
                                          "\xf4\x90\x80\x80",
                                          "99999999999999999999999999",
                                          "-9223372036854775809",
                                          "9223372036854775808",
                                          "18446744073709551616",
                                          "1e999",
                                          "-1e-999",
                                          "NaN",
                                          "inf",
                                          "-0",
                                          "0x7f",
                                          "10L",
                                          "null",
                                          "true",
                                          "True",
                                          "None",
                                          "[]",
                                          "{}",
                                          "[[[[[[[[",
                                          "]]]]]]]]",
                                          "{{{{",
                                          "}}}}",
                                          "=",
                                          "[[",
                                          "]]",
                                          "#",
                                          "\"\"\"",
                                          "{%",
                                          "%}",
                                          "{{",
                                          "}}",
                                          "1970-01-01 00:00:00",
                                          "9999-99-99 99:99:99",
                                          "-1",
                                          "4294967296",
                                          "2147483648",
                                          "0.0",
                                          "1.5",
                                          "-",
                                          " ",
                                          ""};
    size_t n = s.size();
    switch (rng_.below(10)) {
      case 0:  // bit flip
        if (n) s[rng_.below(n)] ^= static_cast<char>(1u << rng_.below(8));
        break;
      case 1:  // random byte insert
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng_.below(n + 1)),
                 static_cast<char>(rng_.below(256)));
        break;
      case 2:  // delete a range
        if (n) {
          size_t at = rng_.below(n);
          s.erase(at, 1 + rng_.below(std::min<size_t>(n - at, 32)));
        }
        break;
      case 3:  // truncate
        s.resize(rng_.below(n + 1));
        break;
      case 4: {  // splice: prefix of this + suffix of another seed
        const std::string& o = seeds_[rng_.below(seeds_.size())];
        s = s.substr(0, rng_.below(n + 1)) + o.substr(rng_.below(o.size() + 1));
        break;
      }
      case 5:
      case 6: {  // token injection (quotes, braces, newlines, escapes, huge numbers)
        const char* t = kTokens[rng_.below(sizeof(kTokens) / sizeof(kTokens[0]))];
        std::string tok = t == kTokens[25] ? std::string(1, '\0') : std::string(t);  // the NUL byte
        s.insert(rng_.below(n + 1), tok);
        break;
      }
      case 7:  // replace a digit run with a huge or negative number
        if (n) {
          size_t at = rng_.below(n);
          while (at < n && !std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
          size_t end = at;
          while (end < n && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
          static const char* const kNums[] = {"99999999999999999999999", "-1",    "0",          "4294967295",
                                              "9223372036854775807",     "1e308", "-2147483649"};
          s.replace(at, end - at, kNums[rng_.below(7)]);
        }
        break;
      case 8:  // duplicate a chunk
        if (n) {
          size_t at = rng_.below(n), len = 1 + rng_.below(std::min<size_t>(n - at, 64));
          s.insert(rng_.below(n + 1), s.substr(at, len));
        }
        break;
      default:  // overwrite a byte with a structural character
        if (n) s[rng_.below(n)] = "\"'{}[],:\n\r\t\\"[rng_.below(13)];
        break;
    }
  }

  std::vector<std::string> seeds_;
  SplitMix rng_;
};

// Saves a failing input and returns its path (for the failure message and a regression test).
inline std::filesystem::path save_failure(const std::string& target, int64_t iteration,
                                          const std::string& input) {
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path dir = std::filesystem::path(tmp ? tmp : "/tmp") / "fuzz-failures";
  std::filesystem::create_directories(dir);
  auto p = dir / (target + "-" + std::to_string(iteration) + ".bin");
  std::ofstream(p, std::ios::binary) << input;
  return p;
}

// Runs one case: returns normally or throws util::Error; anything else is a test failure.
inline void run_case(const std::string& target, int64_t iteration, const std::string& input,
                     const std::function<void(const std::string&)>& fn) {
  try {
    fn(input);
  } catch (const util::Error&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << target << " iteration " << iteration << ": non-util::Error exception: " << e.what()
                  << "; input saved to " << save_failure(target, iteration, input);
  } catch (...) {
    ADD_FAILURE() << target << " iteration " << iteration << ": unknown exception; input saved to "
                  << save_failure(target, iteration, input);
  }
}

// Runs `fn` on mutated seeds under the target's budget (fuzz_budget); returns the number of
// executions. Stops at the first failure (one saved input is enough to start from).
inline int64_t fuzz(const std::string& target, const std::vector<std::string>& seeds, int64_t ci_iterations,
                    const std::function<void(const std::string&)>& fn) {
  FuzzBudget budget = fuzz_budget(ci_iterations);
  Mutator m(seeds, fuzz_seed(target));
  int64_t i = 0;
  for (; budget.more(i); ++i) {
    run_case(target, i, m.next(), fn);
    if (::testing::Test::HasFailure()) break;
  }
  ::testing::Test::RecordProperty("executions", std::to_string(i));
  std::printf("[fuzz] %s: %lld executions\n", target.c_str(), static_cast<long long>(i));
  return i;
}

// The first `max_bytes` of a file, cut back to the last complete line (seed corpora from real data).
std::string read_head(const std::filesystem::path& p, size_t max_bytes = 4096);

}  // namespace um::fuzz
