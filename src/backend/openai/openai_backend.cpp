#include "backend/openai/openai_backend.h"

#include <atomic>
#include <cstdlib>

#include "backend/openai/openai_wire.h"
#include "util/error.h"
#include "util/http_pool.h"

namespace um::backend {
namespace {

using util::HttpFailure;
using util::HttpJob;
using util::HttpPool;
using util::HttpPoolConfig;
using util::HttpPoolStats;
using util::HttpResponse;

enum class AllowedIds { kAuto, kOn, kOff };

class OpenAIBackend final : public Backend {
 public:
  OpenAIBackend(HttpPoolConfig pool, std::string model, AllowedIds allowed, int top_logprobs)
      : model_(std::move(model)), allowed_(allowed), top_logprobs_(top_logprobs), pool_(std::move(pool)) {}

  std::string model_name() const override { return model_; }

  void submit_generate(std::vector<GenerateRequest> requests, GenerateCallback done) override {
    auto shared_done = std::make_shared<GenerateCallback>(std::move(done));
    for (size_t i = 0; i < requests.size(); ++i) {
      const GenerateRequest& req = requests[i];
      const bool completions = wire::uses_completions(req);
      HttpJob job;
      job.path = completions ? "/completions" : "/chat/completions";
      job.body = wire::generate_body(req, model_);
      job.key = req.key;
      const int n = req.sampling.n;
      job.on_success = [this, shared_done, i, completions, n](HttpResponse& r) -> std::string {
        GenerateResult result;
        try {
          result = wire::parse_generate(r.body, completions);
        } catch (const std::exception& e) {
          return e.what();
        }
        if (static_cast<int>(result.samples.size()) != n) {
          return "expected " + std::to_string(n) + " choices, got " + std::to_string(result.samples.size());
        }
        requests_.fetch_add(1);
        (*shared_done)(i, std::move(result), nullptr);
        return "";
      };
      std::string key = req.key;
      job.on_failure = [this, shared_done, i, key](HttpFailure&& f) {
        requests_.fetch_add(1);
        failed_.fetch_add(1);
        (*shared_done)(i, GenerateResult{}, std::make_exception_ptr(util::Error(f.message, {.record = key})));
      };
      pool_.post(std::move(job));
    }
  }

  void submit_options(std::vector<OptionRequest> requests, OptionCallback done) override {
    auto shared_done = std::make_shared<OptionCallback>(std::move(done));
    for (size_t i = 0; i < requests.size(); ++i) {
      auto req = std::make_shared<OptionRequest>(std::move(requests[i]));
      if (req->letters.empty()) {
        (*shared_done)(
            i, OptionResult{},
            std::make_exception_ptr(util::Error("option request has no letters", {.record = req->key})));
        continue;
      }
      post_option(req, i, shared_done, allowed_ != AllowedIds::kOff && !allowed_rejected_.load());
    }
  }

  BackendStats stats() const override {
    HttpPoolStats p = pool_.stats();
    return {requests_.load(), failed_.load(), p.attempts, p.retries, missing_.load()};
  }

 private:
  void post_option(std::shared_ptr<OptionRequest> req, size_t i, std::shared_ptr<OptionCallback> done,
                   bool send_ids) {
    const bool completions = req->prompt.has_value();
    HttpJob job;
    job.path = completions ? "/completions" : "/chat/completions";
    job.body = wire::option_body(*req, model_, top_logprobs_, send_ids);
    job.key = req->key;
    job.on_success = [this, req, i, done, completions](HttpResponse& r) -> std::string {
      std::vector<double> lps;
      try {
        lps = wire::parse_option_logprobs(r.body, completions, req->letters);
      } catch (const std::exception& e) {
        return e.what();
      }
      OptionResult result = letter_distribution(lps);
      missing_.fetch_add(result.missing_letters);
      requests_.fetch_add(1);
      (*done)(i, std::move(result), nullptr);
      return "";
    };
    const bool sent_ids = send_ids && !req->letter_token_ids.empty();
    job.on_failure = [this, req, i, done, sent_ids](HttpFailure&& f) {
      // An endpoint without vLLM's allowed_token_ids extension rejects the field as a validation
      // error; ask again without it (top logprobs + floor) and stop sending it.
      if (sent_ids && allowed_ == AllowedIds::kAuto && f.status == 400) {
        allowed_rejected_.store(true);
        post_option(req, i, done, false);
        return;
      }
      requests_.fetch_add(1);
      failed_.fetch_add(1);
      (*done)(i, OptionResult{}, std::make_exception_ptr(util::Error(f.message, {.record = req->key})));
    };
    pool_.post(std::move(job));
  }

  std::string model_;
  AllowedIds allowed_;
  int top_logprobs_;
  std::atomic<bool> allowed_rejected_{false};
  std::atomic<int64_t> requests_{0}, failed_{0}, missing_{0};
  HttpPool pool_;  // last: destroyed first, so its shutdown callbacks see live members
};

}  // namespace

std::unique_ptr<Backend> make_openai_backend(const BackendSpec& spec) {
  SpecOptions opts(spec);
  HttpPoolConfig pool;
  for (std::string url : spec.targets) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      throw util::Error(
          "backend spec '" + spec.text + "': endpoint '" + url + "' must start with http:// or https://",
          {.field = "backend"});
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    pool.endpoints.push_back(url);
  }
  std::string model = opts.str("model", "");
  if (model.empty()) {
    throw util::Error(
        "backend spec '" + spec.text + "': option model=NAME is required (the served model name)",
        {.field = "backend"});
  }
  pool.concurrency = static_cast<int>(opts.integer("concurrency", 16, 1, 4096));
  pool.timeout_s = opts.number("timeout", 600, 0.001, 86400);
  pool.connect_timeout_s = opts.number("connect_timeout", 10, 0.001, 3600);
  pool.max_attempts = 1 + static_cast<int>(opts.integer("retries", 5, 0, 100));
  pool.backoff_base_s = opts.number("backoff", 0.5, 0, 3600);
  pool.backoff_max_s = opts.number("backoff_max", 30, 0, 86400);
  pool.retry_after_max_s = opts.number("retry_after_max", 300, 0, 86400);
  std::string key_env = opts.str("api_key_env", "");
  if (!key_env.empty()) {
    const char* v = std::getenv(key_env.c_str());
    if (!v || !*v) {
      throw util::Error(
          "backend spec: api_key_env=" + key_env + " names an unset or empty environment variable",
          {.field = "backend"});
    }
    pool.api_key = v;
  }
  std::string allowed = opts.str("allowed_token_ids", "auto");
  AllowedIds mode =
      allowed == "auto" ? AllowedIds::kAuto
      : allowed == "on" ? AllowedIds::kOn
      : allowed == "off"
          ? AllowedIds::kOff
          : throw util::Error("backend spec '" + spec.text + "': allowed_token_ids must be auto, on or off",
                              {.field = "backend"});
  int top = static_cast<int>(opts.integer("top_logprobs", 20, 1, 1000));
  opts.reject_unknown();
  return std::make_unique<OpenAIBackend>(std::move(pool), std::move(model), mode, top);
}

}  // namespace um::backend
