#pragma once
// Typed errors that carry where the problem is: file, line, field and record.
//
//   throw util::Error("rating is not a number", {.file = path, .line = 12, .field = "rating"});
//
// what() renders "file:line: field 'rating': rating is not a number". Errors are translated to user
// messages in exactly three places: the CLI's main, the serve handler wrapper and the pipeline's
// opt-in skip budget (docs/architecture.md).
#include <cstdint>
#include <stdexcept>
#include <string>

namespace um::util {

struct Location {
  std::string file;    // path of the input file, if any
  int64_t line = 0;    // 1-based line number, 0 = unknown
  std::string field;   // field/column name, if any
  std::string record;  // record id (e.g. custom_id or row number), if any
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, Location where = {});
  const Location& where() const { return where_; }
  const std::string& message() const { return message_; }
  // Short machine-usable reason (used as the key of skip counters); defaults to the message.
  const std::string& reason() const { return reason_; }
  Error& with_reason(std::string reason) {
    reason_ = std::move(reason);
    return *this;
  }

 private:
  Location where_;
  std::string message_;
  std::string reason_;
};

// Raised for a feature, configuration or input kind that usermirror deliberately does not support.
class NotSupported : public Error {
 public:
  using Error::Error;
};

// Formats "file:line: field 'f': record r: message" leaving out empty parts.
std::string format_location(const Location& where, const std::string& message);

}  // namespace um::util
