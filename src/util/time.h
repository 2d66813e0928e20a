#pragma once
// Civil time in UTC. usermirror keeps every timestamp as an instant (epoch microseconds, UTC); the
// reference mixes local time zones and UTC (docs/method.md §11.13), which we do not reproduce.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace um::util {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

// "YYYY-MM-DD HH:MM:SS[.ffffff]" (also 'T' separator and a bare "YYYY-MM-DD") → epoch µs (UTC).
std::optional<int64_t> parse_datetime(std::string_view s);
// epoch µs → "YYYY-MM-DD HH:MM:SS" (+ ".ffffff" when the sub-second part is non-zero).
std::string format_datetime(int64_t epoch_us);
// Same text appended to `out` (no allocation once `out` has capacity; for hot writers).
void append_datetime(std::string& out, int64_t epoch_us);
std::string format_date(int64_t epoch_us);

constexpr int64_t kMicrosPerSecond = 1000000;

// Epoch µs → epoch ms rounded down (the scene files' timestamp, as pandas writes datetimes).
constexpr int64_t epoch_ms_from_us(int64_t us) { return us >= 0 ? us / 1000 : -((-us + 999) / 1000); }

}  // namespace um::util
