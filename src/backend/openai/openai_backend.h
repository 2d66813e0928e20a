#pragma once
// The `openai:` backend: any OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp server, Ollama,
// OpenAI, `usermirror serve`) over HttpPool.
//
// Spec: openai:<base url>[,<base url>...]?model=NAME[&concurrency=16][&timeout=600]
//       [&connect_timeout=10][&retries=5][&backoff=0.5][&backoff_max=30][&api_key_env=VAR]
//       [&allowed_token_ids=auto|on|off][&top_logprobs=20]
//   base url: http(s)://host:port/v1 (the paths /chat/completions and /completions are appended).
//
// Generation: /v1/chat/completions (messages; continue_final_message/add_generation_prompt for an
// open assistant prefix, as vLLM accepts) or /v1/completions (prompt string or token ids).
// Option distributions: max_tokens 1 with logprobs on /v1/completions (rendered prompt) or
// /v1/chat/completions (messages, continue_final_message). With letter token ids and
// allowed_token_ids=auto|on the request restricts sampling to the letters (vLLM); in auto mode an
// endpoint that rejects the field with a 400 is asked again without it, and the client stops
// sending it. Letters missing from the returned top logprobs get the 1e-10 floor and are counted.
#include <memory>

#include "backend/backend.h"

namespace um::backend {

std::unique_ptr<Backend> make_openai_backend(const BackendSpec& spec);

}  // namespace um::backend
