#pragma once
// Derived features shared by the per-dataset strategies (docs/method.md §3.3). Timestamps are UTC epoch
// microseconds everywhere (the reference's local-time conversions are not reproduced, §11.13).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace um::scene {

// "<n> <unit>[s] ago" for the first unit of [year = 365 d, month = 30 d, day, hour, minute] that the
// whole seconds of (target − ref) reach; "just now" below a minute or for negative gaps; "earlier"
// when the reference time is unknown (MIND's static click history, a null timestamp).
std::string time_diff(int64_t target_us, std::optional<int64_t> ref_us);

// Python `text.split()` (any Unicode whitespace run) or, with single_space, `text.split(' ')`:
// at most n words → the text unchanged; more → the first n joined by ' ' + "...".
std::string truncate_words(std::string_view text, size_t n, bool single_space = false);
// truncate on a JSON value: falsy values (None, "", 0) render unchanged, strings are truncated,
// other values are rendered with Python str() first.
std::string truncate_value(const nlohmann::json& v, size_t n, bool single_space = false);

// Floor division of timestamps into whole days, as Python's timedelta.days.
int64_t whole_days(int64_t delta_us);
// Jan 1 00:00 UTC of a year given as a JSON string or number ("1995", 1995, 1995.0); nullopt if
// absent or not a year.
std::optional<int64_t> year_start_us(const nlohmann::json& year);

// Member lookup that returns a null JSON for non-objects and missing keys.
const nlohmann::json& member(const nlohmann::json& obj, std::string_view key);

}  // namespace um::scene
