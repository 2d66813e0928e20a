#pragma once
// A deterministic LLM stand-in for arena tests (tests only): the option distribution is a fixed
// function of the prompt; generation returns n short rationales. Records every request key in the
// order the backend received them.
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/simulation_requests.h"
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
  // Like the embedded engine, a run of consecutive requests whose SharedPrefix hints name the same
  // text is one group, and the answers depend on the group: here every answer is seeded by its
  // prompt and by the keys of its whole group, so a caller that re-asks part of a group gets other
  // answers.
  void submit_options(std::vector<backend::OptionRequest> requests, backend::OptionCallback done) override {
    std::vector<std::string> heads;
    for (const auto& r : requests) heads.push_back(backend::shared_prefix_key(r));
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& req = requests[i];
      record(req.key, req.messages);
      size_t b = i, e = i + 1;
      while (!heads[i].empty() && b > 0 && heads[b - 1] == heads[i]) --b;
      while (!heads[i].empty() && e < requests.size() && heads[e] == heads[i]) ++e;
      std::string prompt;
      for (const auto& m : req.messages) prompt += m.role + ":" + m.content + "\n";
      for (size_t j = b; j < e; ++j) prompt += "|" + requests[j].key;
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
