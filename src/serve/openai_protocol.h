#pragma once
// OpenAI wire format on the server side: validated request parsing (every malformed or out-of-range
// field is an ApiError naming the param) and response bodies (JSON and server-sent-event chunks).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/request.h"
#include "serve/serve.h"

namespace um::serve {

struct ParsedGenerate {
  std::vector<backend::GenerateRequest> requests;  // one per prompt (chat: exactly one)
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
};

// Parses a request body; throws ApiError (400 malformed JSON/invalid UTF-8/wrong types/limits,
// 404 unknown model).
nlohmann::json parse_body(const std::string& body);
ParsedGenerate parse_chat_request(const nlohmann::json& body, const ServeOptions& opts,
                                  const std::vector<std::string>& models);
ParsedGenerate parse_completion_request(const nlohmann::json& body, const ServeOptions& opts,
                                        const std::vector<std::string>& models);

// Response bodies. `results` aligned with parsed.requests.
std::string chat_response(const ParsedGenerate& p, const backend::GenerateResult& r, const std::string& id,
                          int64_t created);
std::string completion_response(const ParsedGenerate& p, const std::vector<backend::GenerateResult>& results,
                                const std::string& id, int64_t created);
// The full SSE stream ("data: {...}\n\n" chunks, then "data: [DONE]\n\n") for a chat completion.
std::vector<std::string> chat_stream_events(const ParsedGenerate& p, const backend::GenerateResult& r,
                                            const std::string& id, int64_t created);

}  // namespace um::serve
