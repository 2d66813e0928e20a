#pragma once
// Deterministic random streams. Every random choice in usermirror comes from a stream derived from
// (run seed, stage name, record id), so results do not depend on thread count, scheduling or the
// point where a run was restarted.
//
//   util::Rng rng = util::Rng::stream(seed, "scenes/history", record_index);
//   int k = rng.uniform_int(2, 10);
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace um::util {

uint64_t splitmix64(uint64_t& state);
// 64-bit FNV-1a, for turning stage names into stream keys.
uint64_t hash64(std::string_view s);
// 16 lowercase hex digits, e.g. for keys and fingerprints built from hash64.
std::string hex64(uint64_t v);

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  static Rng stream(uint64_t seed, std::string_view stage, uint64_t record);

  uint64_t next_u64();
  // Uniform integer in [lo, hi] (inclusive), unbiased (Lemire's method with rejection).
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();
  // Fisher–Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(uniform_int(0, static_cast<int64_t>(i) - 1));
      std::swap(v[i - 1], v[j]);
    }
  }
  // Index drawn from unnormalised non-negative weights (sum > 0).
  size_t categorical(const std::vector<double>& weights);

 private:
  uint64_t s_[4];
};

}  // namespace um::util
