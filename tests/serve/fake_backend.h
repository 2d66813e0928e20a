#pragma once
// A deterministic Backend for server tests (tests only, never src/): generation echoes a digest of
// the prompt word by word; the next-token distribution over letters is a fixed function of the
// prompt. Its option_distribution() is the letter-restricted softmax of the same logits its
// generate() reports as top logprobs, so scoring through HTTP must reproduce it exactly. With
// vocab_size > 0, token ids a request gives outside [0, vocab_size) fail it with util::InvalidInput,
// as the embedded engine does.
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "util/invalid_input.h"
#include "util/rng.h"

namespace um::testing {

class FakeBackend : public backend::Backend {
 public:
  explicit FakeBackend(std::string name = "fake-sim") : name_(std::move(name)) {}
  std::string model_name() const override { return name_; }
  std::atomic<int> delay_ms{0};
  std::atomic<int> calls{0};
  int64_t vocab_size = 0;  // 0 = any id; set before the backend is used

  void check_ids(const std::vector<int32_t>& ids, const char* field, const std::string& key) const {
    for (int32_t id : ids) {
      if (vocab_size > 0 && (id < 0 || id >= vocab_size))
        throw util::InvalidInput("token id " + std::to_string(id) + " is outside the vocabulary",
                                 {.field = field, .record = key});
    }
  }

  static std::string prompt_text(const backend::GenerateRequest& r) {
    if (r.prompt) return *r.prompt;
    std::string s;
    for (auto t : r.prompt_tokens) s += std::to_string(t) + " ";
    for (const auto& m : r.messages) s += m.role + ":" + m.content + "\n";
    return s;
  }
  static std::string prompt_text(const backend::OptionRequest& r) {
    if (r.prompt) return *r.prompt;
    std::string s;
    for (const auto& m : r.messages) s += m.role + ":" + m.content + "\n";
    return s;
  }
  // Logit of token "A".."Z" given the prompt.
  static double letter_logit(const std::string& prompt, char letter) {
    util::Rng rng(util::hash64(prompt) ^ static_cast<uint64_t>(letter));
    return 4.0 * rng.uniform01() - 2.0;
  }
  static std::vector<std::pair<std::string, double>> letter_logprobs(const std::string& prompt) {
    // A 26-letter "vocabulary": full log-softmax over A..Z.
    double mx = -1e300, sum = 0;
    std::vector<double> l(26);
    for (int i = 0; i < 26; ++i) mx = std::max(mx, l[i] = letter_logit(prompt, static_cast<char>('A' + i)));
    for (double x : l) sum += std::exp(x - mx);
    std::vector<std::pair<std::string, double>> out;
    for (int i = 0; i < 26; ++i)
      out.push_back({std::string(1, static_cast<char>('A' + i)), l[i] - mx - std::log(sum)});
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.second > b.second; });
    return out;
  }

  backend::GenerateResult run(const backend::GenerateRequest& r) {
    if (delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    check_ids(r.prompt_tokens, "prompt", r.key);
    check_ids(r.allowed_token_ids, "allowed_token_ids", r.key);
    calls.fetch_add(1);
    const std::string prompt = prompt_text(r);
    backend::GenerateResult out;
    out.prompt_tokens = static_cast<int64_t>(prompt.size() / 4 + 1);
    for (int i = 0; i < r.sampling.n; ++i) {
      backend::Sample s;
      util::Rng rng(util::hash64(prompt) + static_cast<uint64_t>(i) + r.sampling.seed.value_or(0));
      auto lps = letter_logprobs(prompt);
      std::vector<std::string> words = {"I", "like", "option", "é", "and", "the", "Behavior:", "[B]"};
      for (int t = 0; t < r.sampling.max_tokens; ++t) {
        std::string tok = t == 0 && r.top_logprobs >= 0
                              ? lps[0].first
                              : words[static_cast<size_t>(rng.uniform_int(0, 7))] + " ";
        if (r.top_logprobs >= 0) {
          backend::TokenLogprob tl{tok, t == 0 ? lps[0].second : -0.5, {}};
          for (int k = 0; k < r.top_logprobs && k < 26; ++k)
            tl.top.push_back({lps[static_cast<size_t>(k)].first, lps[static_cast<size_t>(k)].second});
          s.logprobs.push_back(std::move(tl));
        }
        s.text += tok;
      }
      s.finish_reason = "length";
      for (const auto& stop : r.sampling.stop) {
        if (auto pos = s.text.find(stop); pos != std::string::npos) {
          s.text.resize(pos);
          s.finish_reason = "stop";
        }
      }
      out.completion_tokens += r.sampling.max_tokens;
      out.samples.push_back(std::move(s));
    }
    return out;
  }

  void submit_generate(std::vector<backend::GenerateRequest> reqs, backend::GenerateCallback done) override {
    for (size_t i = 0; i < reqs.size(); ++i) {
      backend::GenerateResult out;
      std::exception_ptr err;
      try {
        out = run(reqs[i]);
      } catch (...) {
        err = std::current_exception();
      }
      done(i, std::move(out), err);
    }
  }

  void submit_options(std::vector<backend::OptionRequest> reqs, backend::OptionCallback done) override {
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      try {
        check_ids(reqs[i].letter_token_ids, "letter_token_ids", reqs[i].key);
      } catch (...) {
        done(i, {}, std::current_exception());
        continue;
      }
      calls.fetch_add(1);
      const std::string prompt = prompt_text(reqs[i]);
      std::vector<double> lp;
      for (const auto& l : reqs[i].letters) lp.push_back(letter_logit(prompt, l[0]));
      done(i, backend::letter_distribution(lp), nullptr);
    }
  }

 private:
  std::string name_;
};

}  // namespace um::testing
