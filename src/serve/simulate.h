#pragma once
// POST /v1/simulate: the simulator's answer for one scene — the option distribution and a sampled
// choice, in direct mode (assistant prefix "Behavior: [") or reasoning mode (n rationales continued
// from "Thought:\nStimulus:" up to "Behavior: [", one distribution each, averaged), docs/method.md §5.3/§10.
//
// Body: {"scene": <scene record, a line of datasets/<DS>_*.jsonl> | "text": {profile, action_list,
//         history} (prompt built here with the system prompt "prompt", default reasoning-v1 /
//         direct-v1, options = the exposure list) | "messages":[system, user] with "options": C or
//         "letters":[...],
//        "mode":"direct"|"reasoning", "n", "temperature", "top_p", "max_tokens", "seed",
//        "letter_token_ids":[...], "model"}
// Answer: {"mode","letters","distribution":{"A":p,..},"choice","choice_index","missing_letters",
//          "rationales":[{"text","distribution"}] (reasoning mode)}
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "serve/request_watch.h"
#include "serve/serve.h"

namespace um::serve {

// Every backend request it sends (the option requests, and in reasoning mode the generation before
// them) carries the watch's cancellation flag, and it waits through the watch: a client that leaves,
// the request's deadline or the drain timeout stops the work and is answered by
// RequestWatch::throw_cancelled (504 for the deadline).
std::string simulate(backend::Backend& backend, const nlohmann::json& body, const ServeOptions& opts,
                     const std::vector<std::string>& models, RequestWatch& watch);
// The same without a connection or a deadline (in-process callers: fuzzing): never cancelled.
std::string simulate(backend::Backend& backend, const nlohmann::json& body, const ServeOptions& opts,
                     const std::vector<std::string>& models);

}  // namespace um::serve
