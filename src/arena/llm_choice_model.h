#pragma once
// The LLM simulator as a choice model: a backend asked in direct mode (the option distribution after
// "Behavior: [") or reasoning mode (`repeats` rationales continued from "Thought:\nStimulus:", each
// re-closed and scored, the distributions averaged) — the same requests as evaluate and serve
// (backend/simulation_requests.h). Every answer is appended to a RequestStore as it arrives, keyed
// by the page key, so a killed arena resumes without asking again.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "arena/choice_model.h"
#include "backend/backend.h"
#include "backend/request_store.h"

namespace um::arena {

struct LlmChoiceOptions {
  std::string name;  // the simulator spec, for reports
  std::string mode = "direct";
  std::string system_prompt;  // the prompt text
  int repeats = 3;
  int max_tokens = 1024;
  double temperature = 1.0;
  double top_p = 0.8;
  uint64_t seed = 0;
  int64_t max_failures = 0;
};

class LlmChoiceModel final : public ChoiceModel {
 public:
  // The store's stage names the mode and the system prompt's digest: reusing an output folder with
  // another mode or prompt is an error instead of a silent mix of answers.
  LlmChoiceModel(backend::Backend& backend, const std::filesystem::path& store, LlmChoiceOptions options);
  std::string name() const override { return opts_.name; }
  // Pages the backend could not answer (within max_failures) get an empty distribution.
  std::vector<std::vector<double>> choose(const std::vector<const PageScene*>& pages) override;

  double seconds() const { return seconds_; }  // wall time inside backend calls
  // CPU time of the whole process (every thread) inside backend calls: with the embedded engine the
  // simulator's work, which a busy machine inflates far less than the wall time.
  double cpu_seconds() const { return cpu_seconds_; }
  int64_t requests_sent() const { return sent_; }      // requests sent (not found in the store)
  int64_t requests_stored() const { return reused_; }  // answers found in the store
  int64_t failed() const { return failed_; }

 private:
  backend::Backend& be_;
  std::filesystem::path store_path_;
  std::string stage_;
  LlmChoiceOptions opts_;
  double seconds_ = 0;
  double cpu_seconds_ = 0;
  int64_t sent_ = 0, reused_ = 0, failed_ = 0;
};

}  // namespace um::arena
