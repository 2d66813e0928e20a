#pragma once
// OpenAI HTTP wire format on the client side: request bodies from our request types, and our
// result types from response bodies. Parsing throws util::Error naming the missing/mistyped field.
#include <string>

#include "backend/request.h"

namespace um::backend::wire {

// Body for /chat/completions (messages) or /completions (prompt / prompt_tokens).
std::string generate_body(const GenerateRequest& req, const std::string& model);
bool uses_completions(const GenerateRequest& req);
GenerateResult parse_generate(const std::string& body, bool completions);

// Body for a one-token option read: /completions when req.prompt is set, else /chat/completions.
std::string option_body(const OptionRequest& req, const std::string& model, int top_logprobs,
                        bool send_allowed_token_ids);
// Letter logprobs (NaN where absent) read from the first generated position's top logprobs.
std::vector<double> parse_option_logprobs(const std::string& body, bool completions,
                                          const std::vector<std::string>& letters);

}  // namespace um::backend::wire
