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
// Server-sent events ("data: {...}\n\n"), token by token. `chat` selects the chat.completion.chunk
// format (delta, logprobs.content) or the legacy text_completion one (text, logprobs with
// text_offset starting at `text_offset`, the bytes of the choice already sent).
std::string chat_role_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, size_t index);
std::string stream_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, bool chat,
                         size_t index, const backend::SampleDelta& d, size_t text_offset);
// The final usage chunk (choices = []) of stream_options.include_usage.
std::string usage_chunk(const ParsedGenerate& p, const std::string& id, int64_t created, bool chat,
                        int64_t prompt_tokens, int64_t completion_tokens);
// An error inside a stream that already started (HTTP status sent): an OpenAI error object event.
std::string error_event(const std::string& message, const std::string& type, const std::string& code);

}  // namespace um::serve
