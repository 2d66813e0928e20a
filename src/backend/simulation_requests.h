#pragma once
// The requests that ask an LLM to act as the simulated user of one scene (docs/method.md §5.3, §10),
// in one place for every caller (evaluate, serve's /v1/simulate, the arena):
//   direct mode     [system, user, assistant "Behavior: ["] → the option distribution;
//   reasoning mode  [system, user, assistant "Thought:\nStimulus:"] continued n times up to
//                   "Behavior: [", then each continuation re-closed with "Behavior: [" and scored.
//
//   auto base = backend::simulation_messages(scene_text, system_prompt);
//   backend::OptionRequest r = backend::direct_option_request("u1/p0", base, 5);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/request.h"
#include "text/prompt.h"

namespace um::backend {

// "A", "B", ... for n options (n <= 26; util::Error otherwise).
std::vector<std::string> option_letters(size_t n);

// [system, user] of a scene: the system prompt and text::user_message(scene).
std::vector<Message> simulation_messages(const text::SceneText& scene, std::string_view system_prompt);

// The prefix-sharing hint of a scene's requests built on simulation_messages: the system prompt and
// the user message up to its exposure list (text::user_message_head).
SharedPrefix scene_shared_prefix(const text::SceneText& scene);
// The text an option request's SharedPrefix hint names (the messages before the hinted one and the
// hinted prefix of its content), or "" without a usable hint. A run of consecutive requests with the
// same non-empty key is one page group: the embedded engine scores it together (its results depend on
// the group), and the arena asks it whole.
std::string shared_prefix_key(const OptionRequest& request);

// Direct mode: base + assistant "Behavior: [", letters A.. for `options` options.
OptionRequest direct_option_request(std::string key, std::vector<Message> base, size_t options);

struct ReasoningSampling {
  int n = 1;
  double temperature = 1.0;
  double top_p = 0.8;
  int max_tokens = 1024;
  std::optional<uint64_t> seed;
};
// Reasoning mode, step 1: base + open assistant "Thought:\nStimulus:", n continuations stopped at
// "Behavior: [".
GenerateRequest reasoning_generate_request(std::string key, std::vector<Message> base,
                                           const ReasoningSampling& sampling);
// Reasoning mode, step 2: base + assistant "Thought:\nStimulus:" + continuation + "Behavior: [".
OptionRequest reasoning_option_request(std::string key, std::vector<Message> base,
                                       std::string_view continuation, size_t options);
// The whole reasoning turn of a continuation, as written to prediction files:
// "Thought:\nStimulus:" + continuation.
std::string reasoning_turn(std::string_view continuation);

}  // namespace um::backend
