#pragma once
// Dot product of two short f32 or bf16 vectors in a fixed, vectorisable order (16 partial sums, then
// the remainder, then the partials in order): shared by the decode attention (q·k) and the fused decode
// step's RMSNorm (x·x), so both compile to the same code in every target clone that inlines them.
// Internal to src/model (includes c10).
#include <c10/util/BFloat16.h>

#include <cstdint>

namespace um::model::detail {

inline float to_f32(float x) { return x; }
inline float to_f32(c10::BFloat16 x) { return static_cast<float>(x); }

template <typename T>
__attribute__((always_inline)) inline float dot16(const T* a, const T* b, int64_t n) {
  float part[16] = {};
  int64_t e = 0;
  for (; e + 16 <= n; e += 16) {
    for (int l = 0; l < 16; ++l) part[l] += to_f32(a[e + l]) * to_f32(b[e + l]);
  }
  float s = 0;
  for (; e < n; ++e) s += to_f32(a[e]) * to_f32(b[e]);
  for (float p : part) s += p;
  return s;
}

}  // namespace um::model::detail
