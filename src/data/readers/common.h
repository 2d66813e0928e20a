#pragma once
// Helpers shared by the reader files (not part of the data component's public interface).
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/reader.h"
#include "util/utf8.h"

namespace um::data::readers {

// Reports a missing or empty required field (fails, or counts "missing <field>" with --skip-bad).
inline void report_missing(const ReadContext& ctx, util::Location where, std::string_view field) {
  where.field = std::string(field);
  ctx.bad->report(util::Error("missing required field", where).with_reason("missing " + std::string(field)));
}

// A timestamp read as a number, rounded to a whole count of its unit and multiplied by `factor` (e.g.
// seconds × 1000000 = µs); nullopt when not finite or out of int64's range, a bad record (found by
// tests/fuzz, docs/reliability.md: the product of a huge timestamp was signed-overflow UB).
inline std::optional<int64_t> scale_timestamp(double value, int64_t factor) {
  const double scaled = std::round(value) * static_cast<double>(factor);
  // 2^63 as a double; every finite double below it converts exactly enough for a timestamp.
  if (!std::isfinite(scaled) || scaled >= 9223372036854775808.0 || scaled < -9223372036854775808.0)
    return std::nullopt;
  return static_cast<int64_t>(std::llround(value)) * factor;
}

// Reports a timestamp out of range as a bad record of `field`.
inline void report_bad_timestamp(const ReadContext& ctx, util::Location where, std::string_view field) {
  where.field = std::string(field);
  ctx.bad->report(
      util::Error("timestamp out of range", where).with_reason("bad number in " + std::string(field)));
}

// Decodes a Latin-1 field, or keeps it when it is already valid UTF-8 (re-encoded copies exist).
inline std::string latin1_field(std::string_view s) {
  return util::is_valid_utf8(s) ? std::string(s) : util::latin1_to_utf8(s);
}

// Splits on runs of spaces, dropping empty parts.
inline void split_spaces(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
}

// Reports text that is not valid UTF-8 in a dataset documented as UTF-8 (fails, or counts
// "invalid UTF-8" with --skip-bad). Returns false when the record must be skipped.
inline bool check_utf8(const ReadContext& ctx, util::Location where, std::string_view field,
                       std::string_view text) {
  size_t bad = 0;
  if (util::is_valid_utf8(text, &bad)) return true;
  where.field = std::string(field);
  ctx.bad->report(util::Error("text is not valid UTF-8 (byte " + std::to_string(bad) + ")", where)
                      .with_reason("invalid UTF-8"));
  return false;
}

// True when at most `max_rows` interaction rows have been read (FilterOptions::max_rows).
inline bool row_budget_left(const ReadContext& ctx, uint64_t rows) {
  return !ctx.filters.max_rows || static_cast<int64_t>(rows) < *ctx.filters.max_rows;
}

}  // namespace um::data::readers
