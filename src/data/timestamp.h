#pragma once
// Timestamp parsing shared by the readers: the string forms found in raw data and in files the
// reference wrote, and epoch numbers of unknown unit.
#include <cstdint>
#include <optional>
#include <string_view>

namespace um::data {

// "YYYY-MM-DD[ HH:MM:SS[.f]]" or "M/D/YYYY h:mm:ss AM|PM" (MIND; 12-hour clock read correctly,
// see docs/reference-differences.md) → UTC epoch µs.
std::optional<int64_t> parse_timestamp_text(std::string_view s);
// Epoch number whose unit is guessed from its magnitude as pandas does (s, ms, µs or ns).
int64_t epoch_number_to_us(double v);

}  // namespace um::data
