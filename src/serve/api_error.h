#pragma once
// An error answered to an HTTP client in the OpenAI format:
//   {"error":{"message":..,"type":"invalid_request_error","param":..,"code":..}}
#include <stdexcept>
#include <string>

namespace um::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int http_status, const std::string& message, std::string param_name = "",
           std::string error_code = "", std::string error_type = "invalid_request_error")
      : std::runtime_error(message),
        status(http_status),
        param(std::move(param_name)),
        code(std::move(error_code)),
        type(std::move(error_type)) {}
  int status;
  std::string param;
  std::string code;
  std::string type;
};

// Serialises the OpenAI error body.
std::string error_body(const std::string& message, const std::string& type, const std::string& param,
                       const std::string& code);

}  // namespace um::serve
