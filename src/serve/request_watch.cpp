#include "serve/request_watch.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace um::serve {
namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

ApiError timeout_error(double limit_s) {
  return ApiError(504,
                  "request timed out after its " + seconds_text(limit_s) + " s limit; the work was cancelled",
                  "", "request_timeout", "timeout_error");
}

Deadline request_deadline(const std::string& header, double server_limit_s,
                          SteadyClock::time_point received) {
  double limit = server_limit_s > 0 ? server_limit_s : 0;
  const size_t first = header.find_first_not_of(" \t");
  if (first != std::string::npos) {
    const std::string text = header.substr(first, header.find_last_not_of(" \t") + 1 - first);
    // A decimal number only (strtod alone would also take "inf", "nan" and hexadecimal).
    const bool decimal = text.find_first_not_of("0123456789.eE+-") == std::string::npos;
    char* end = nullptr;
    errno = 0;
    const double v = decimal ? std::strtod(text.c_str(), &end) : 0.0;
    if (!decimal || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v) || v <= 0 ||
        v > kMaxRequestTimeoutS) {
      throw ApiError(400,
                     "X-Request-Timeout must be a number of seconds > 0 and <= " +
                         seconds_text(kMaxRequestTimeoutS) + " (got '" + header + "')",
                     "X-Request-Timeout", "invalid_value");
    }
    limit = limit > 0 ? std::min(limit, v) : v;
  }
  Deadline d;
  if (limit > 0) {
    d.limit_s = limit;
    d.at = received + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(limit));
  }
  return d;
}

}  // namespace um::serve
