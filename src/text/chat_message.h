#pragma once
// One chat message: the single {role, content} record that chat templates and prompts (text), the
// released train-set rows (scene) and requests to a model (backend::Message) share
// (docs/architecture.md, "One owner per concept").
#include <string>

namespace um::text {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

}  // namespace um::text
