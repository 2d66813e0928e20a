#include "util/error.h"

namespace um::util {

std::string format_location(const Location& where, const std::string& message) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) out += ":" + std::to_string(where.line);
    out += ": ";
  }
  if (!where.record.empty()) out += "record " + where.record + ": ";
  if (!where.field.empty()) out += "field '" + where.field + "': ";
  out += message;
  return out;
}

Error::Error(const std::string& message, Location where)
    : std::runtime_error(format_location(where, message)),
      where_(std::move(where)),
      message_(message),
      reason_(message) {}

}  // namespace um::util
