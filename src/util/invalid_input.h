#pragma once
// Raised where a request's own content is invalid (a token id outside the model's vocabulary, given by
// the caller), so that servers answer it as a client error (serve: 400 invalid_request_error, code
// invalid_value, param = where().field) rather than as a backend failure. Everything else that
// catches util::Error treats it as one.
//
//   throw util::InvalidInput("token id 999999999 is outside the vocabulary [0, 151669)",
//                            {.field = "prompt", .record = req.key});
#include "util/error.h"

namespace um::util {

class InvalidInput : public Error {
 public:
  using Error::Error;
};

}  // namespace um::util
