#pragma once
// 16-bit floats as safetensors files store them (little-endian bit patterns held in uint16_t):
// bfloat16 and IEEE half to float32 and back, one definition for the model's weights and the scene's
// embedding caches.
#include <cstdint>

namespace um::util {

// float32 → bfloat16, rounding to nearest even; NaN stays NaN (quiet).
uint16_t f32_to_bf16(float f);
// bfloat16 → float32 (exact).
float bf16_to_f32(uint16_t b);
// IEEE 754 half → float32 (exact; subnormals, infinities and NaN included).
float f16_to_f32(uint16_t h);

}  // namespace um::util
