#include "util/time.h"

#include <cstdio>

namespace um::util {

// Howard Hinnant's civil-date algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

static bool digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::optional<int64_t> parse_datetime(std::string_view s) {
  int64_t y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  if (s.size() > 10) {
    if ((s[10] != ' ' && s[10] != 'T') || !digits(s, 11, 2, h) || s.size() < 19 || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
      return std::nullopt;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    if (s.size() > 19) {
      if (s[19] != '.') return std::nullopt;
      size_t n = s.size() - 20;
      if (n == 0 || n > 9 || !digits(s, 20, n, frac)) return std::nullopt;
      for (size_t i = n; i < 6; ++i) frac *= 10;
      for (size_t i = 6; i < n; ++i) frac /= 10;
    }
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + se) * kMicrosPerSecond) + frac;
}

std::string format_datetime(int64_t epoch_us) {
  std::string out;
  out.reserve(26);
  append_datetime(out, epoch_us);
  return out;
}

void append_datetime(std::string& out, int64_t epoch_us) {
  // Floor division without negation: INT64_MIN is a valid input (found by tests/fuzz).
  int64_t secs = epoch_us / kMicrosPerSecond;
  int64_t us = epoch_us % kMicrosPerSecond;
  if (us < 0) {
    us += kMicrosPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  // Written digit by digit: this runs once per interaction on every prepare and load.
  auto put = [&out](int64_t v, int width) {
    char tmp[24];
    int n = 0;
    bool neg = v < 0;
    uint64_t u = neg ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (neg) out.push_back('-');
    for (int k = n + (neg ? 1 : 0); k < width; ++k) out.push_back('0');  // printf's %0Nd pads the sign too
    while (n) out.push_back(tmp[--n]);
  };
  put(y, 4);
  out.push_back('-');
  put(m, 2);
  out.push_back('-');
  put(d, 2);
  out.push_back(' ');
  put(rem / 3600, 2);
  out.push_back(':');
  put((rem / 60) % 60, 2);
  out.push_back(':');
  put(rem % 60, 2);
  if (us != 0) {
    out.push_back('.');
    put(us, 6);
  }
}

std::string format_date(int64_t epoch_us) { return format_datetime(epoch_us).substr(0, 10); }

}  // namespace um::util
