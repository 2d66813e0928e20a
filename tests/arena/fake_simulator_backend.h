#pragma once
// A deterministic LLM stand-in for arena tests (tests only): the option distribution is a fixed
// function of the prompt; generation returns n short rationales. Records every request key in the
// order the backend received them.
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "util/rng.h"

namespace um::arena::testing {

class FakeSimulatorBackend final : public backend::Backend {
 public:
  std::string model_name() const override { return "fake-simulator"; }

  void submit_generate(std::vector<backend::GenerateRequest> requests,
                       backend::GenerateCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      record(requests[i].key, requests[i].messages);
      backend::GenerateResult r;
      for (int s = 0; s < requests[i].sampling.n; ++s)
        r.samples.push_back({"I weigh option " + std::to_string(s) + " against my history.\n", "stop", {}});
      done(i, std::move(r), nullptr);
    }
  }
  void submit_options(std::vector<backend::OptionRequest> requests, backend::OptionCallback done) override {
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& req = requests[i];
      record(req.key, req.messages);
      std::string prompt;
      for (const auto& m : req.messages) prompt += m.role + ":" + m.content + "\n";
      util::Rng rng(util::hash64(prompt));
      std::vector<double> lp;
      for (size_t k = 0; k < req.letters.size(); ++k) lp.push_back(std::log(0.05 + rng.uniform01()));
      done(i, backend::letter_distribution(lp), nullptr);
    }
  }

  std::vector<std::string> keys() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_;
  }
  std::vector<std::vector<backend::Message>> messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  void record(const std::string& key, const std::vector<backend::Message>& m) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_.push_back(key);
    messages_.push_back(m);
  }
  mutable std::mutex mu_;
  std::vector<std::string> keys_;
  std::vector<std::vector<backend::Message>> messages_;
};

}  // namespace um::arena::testing
