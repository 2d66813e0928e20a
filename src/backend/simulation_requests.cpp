#include "backend/simulation_requests.h"

#include "util/error.h"

namespace um::backend {

std::vector<std::string> option_letters(size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) out.emplace_back(1, text::option_letter(k));
  return out;
}

std::vector<Message> simulation_messages(const text::SceneText& scene, std::string_view system_prompt) {
  return {{"system", std::string(system_prompt)}, {"user", text::user_message(scene)}};
}

SharedPrefix scene_shared_prefix(const text::SceneText& scene) {
  return {.message = 1, .chars = text::user_message_head(scene).size()};
}

std::string shared_prefix_key(const OptionRequest& req) {
  if (!req.shared_prefix || req.prompt || req.shared_prefix->chars == 0) return {};
  const SharedPrefix& h = *req.shared_prefix;
  if (h.message >= req.messages.size() || h.chars > req.messages[h.message].content.size()) return {};
  std::string key;
  for (size_t m = 0; m < h.message; ++m) {
    key += req.messages[m].role;
    key += '\x1f';
    key += req.messages[m].content;
    key += '\x1e';
  }
  key += req.messages[h.message].role;
  key += '\x1f';
  key.append(req.messages[h.message].content, 0, h.chars);
  return key;
}

OptionRequest direct_option_request(std::string key, std::vector<Message> base, size_t options) {
  OptionRequest req;
  req.key = std::move(key);
  req.messages = std::move(base);
  req.messages.push_back({"assistant", std::string(text::kBehaviorPrefix)});
  req.letters = option_letters(options);
  return req;
}

GenerateRequest reasoning_generate_request(std::string key, std::vector<Message> base,
                                           const ReasoningSampling& sampling) {
  GenerateRequest req;
  req.key = std::move(key);
  req.messages = std::move(base);
  req.messages.push_back({"assistant", std::string(text::kEvalReasoningPrefix)});
  req.continue_final_message = true;
  req.sampling.n = sampling.n;
  req.sampling.temperature = sampling.temperature;
  req.sampling.top_p = sampling.top_p;
  req.sampling.max_tokens = sampling.max_tokens;
  req.sampling.stop = {std::string(text::kBehaviorPrefix)};
  req.sampling.seed = sampling.seed;
  return req;
}

std::string reasoning_turn(std::string_view continuation) {
  std::string s(text::kEvalReasoningPrefix);
  s += continuation;
  return s;
}

OptionRequest reasoning_option_request(std::string key, std::vector<Message> base,
                                       std::string_view continuation, size_t options) {
  OptionRequest req;
  req.key = std::move(key);
  req.messages = std::move(base);
  req.messages.push_back({"assistant", reasoning_turn(continuation) + std::string(text::kBehaviorPrefix)});
  req.letters = option_letters(options);
  return req;
}

}  // namespace um::backend
