#include "data/timestamp.h"

#include <cmath>

#include "util/time.h"

namespace um::data {

static bool parse_uint(std::string_view s, size_t& i, int& out, size_t max_digits) {
  size_t start = i;
  out = 0;
  while (i < s.size() && i - start < max_digits && s[i] >= '0' && s[i] <= '9')
    out = out * 10 + (s[i++] - '0');
  return i > start;
}

std::optional<int64_t> parse_timestamp_text(std::string_view s) {
  if (auto t = util::parse_datetime(s)) return t;
  // M/D/YYYY h:mm:ss AM|PM
  size_t i = 0;
  int mo, d, y, h, mi, se;
  if (!parse_uint(s, i, mo, 2) || i >= s.size() || s[i++] != '/') return std::nullopt;
  if (!parse_uint(s, i, d, 2) || i >= s.size() || s[i++] != '/') return std::nullopt;
  if (!parse_uint(s, i, y, 4) || i >= s.size() || s[i++] != ' ') return std::nullopt;
  if (!parse_uint(s, i, h, 2) || i >= s.size() || s[i++] != ':') return std::nullopt;
  if (!parse_uint(s, i, mi, 2) || i >= s.size() || s[i++] != ':') return std::nullopt;
  if (!parse_uint(s, i, se, 2)) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != ' ' || i + 3 != s.size()) return std::nullopt;
    std::string_view ampm = s.substr(i + 1);
    if (h < 1 || h > 12) return std::nullopt;
    if (ampm == "AM") {
      if (h == 12) h = 0;
    } else if (ampm == "PM") {
      if (h != 12) h += 12;
    } else {
      return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  int64_t days = util::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return (days * 86400 + h * 3600 + mi * 60 + se) * util::kMicrosPerSecond;
}

int64_t epoch_number_to_us(double v) {
  double a = std::fabs(v);
  if (a < 1e11) return static_cast<int64_t>(std::llround(v * 1e6));
  if (a < 1e14) return static_cast<int64_t>(std::llround(v * 1e3));
  if (a < 1e17) return static_cast<int64_t>(std::llround(v));
  return static_cast<int64_t>(std::llround(v / 1e3));
}

}  // namespace um::data
