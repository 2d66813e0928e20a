#pragma once
// A deterministic LLM stand-in for the pipeline's stage tests (tests only): generation returns n short
// rationales, the option distribution is a fixed function of the prompt. No model, no threads.
#include <cmath>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "util/rng.h"

namespace um::pipeline::testing {

class FakeLlmBackend final : public backend::Backend {
 public:
  explicit FakeLlmBackend(std::string name) : name_(std::move(name)) {}
  std::string model_name() const override { return name_; }

  void submit_generate(std::vector<backend::GenerateRequest> requests,
                       backend::GenerateCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      backend::GenerateResult r;
      for (int s = 0; s < requests[i].sampling.n; ++s)
        r.samples.push_back(
            {name_ + " weighs option " + std::to_string(s) + " against the history.\n", "stop", {}});
      done(i, std::move(r), nullptr);
    }
  }
  void submit_options(std::vector<backend::OptionRequest> requests, backend::OptionCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      std::string prompt = name_;
      for (const auto& m : requests[i].messages) prompt += "|" + m.role + ":" + m.content;
      util::Rng rng(util::hash64(prompt));
      std::vector<double> lp;
      for (size_t k = 0; k < requests[i].letters.size(); ++k) lp.push_back(std::log(0.05 + rng.uniform01()));
      done(i, backend::letter_distribution(lp), nullptr);
    }
  }

 private:
  std::string name_;
};

// Makes `kind:` specs (e.g. "fake:teacher") build a FakeLlmBackend named by the spec.
inline void register_fake_backend(const std::string& kind) {
  backend::register_backend(
      kind, [](const backend::BackendSpec& s) { return std::make_unique<FakeLlmBackend>(s.text); });
}

}  // namespace um::pipeline::testing
