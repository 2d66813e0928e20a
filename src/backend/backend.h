#pragma once
// backend — one interface for the two things every pipeline stage asks of an LLM: "generate n
// samples" and "the option distribution after an open assistant prefix". Implementations: the
// OpenAI-compatible HTTP client (`openai:` specs, any vLLM/SGLang/llama.cpp/Ollama/OpenAI endpoint)
// and the embedded libtorch engine (`local:` specs, registered by backend/embedded/ when built).
//
//   auto be = backend::make_backend("openai:http://gpu-a:8000/v1,http://gpu-b:8000/v1"
//                                   "?model=Qwen2.5-14B&concurrency=64&api_key_env=OPENAI_API_KEY");
//   backend::GenerateRequest req{.key = "ml-1m-12", .messages = {{"system", sys}, {"user", user}}};
//   req.sampling.n = 10;
//   backend::GenerateResult r = be->generate_one(req);
//
// Batches: submit_*() take a vector of requests and call `done(index, result, error)` once per
// request, in completion order, from a backend thread (possibly concurrently from several threads;
// keep callbacks short). Errors are util::Error with .record = the request key; a request that fails
// after the backend's retries is reported through `error`, never dropped. Backends are thread-safe:
// any thread may submit at any time. Destroying a backend waits for or fails in-flight requests
// (each callback still runs exactly once).
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/request.h"

namespace um::backend {

using GenerateCallback = std::function<void(size_t index, GenerateResult&& result, std::exception_ptr error)>;
using OptionCallback = std::function<void(size_t index, OptionResult&& result, std::exception_ptr error)>;

// Counters for summaries and tests; monotonically increasing.
struct BackendStats {
  int64_t requests = 0;         // logical requests completed (ok or failed)
  int64_t failed = 0;           // logical requests that ended in an error
  int64_t attempts = 0;         // HTTP attempts (>= requests for HTTP backends)
  int64_t retries = 0;          // attempts that were retries
  int64_t missing_letters = 0;  // option letters absent from the backend's answers (floored)
  // Option requests of the embedded engine: prompt tokens, and those served by its prefix cache.
  int64_t option_prompt_tokens = 0;
  int64_t option_prompt_tokens_cached = 0;
  // Generate requests of the embedded engine whose prompts were prefilled in one forward with other
  // requests' (joining a continuous batch at the same step).
  int64_t prompts_prefilled_together = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The model name reported to clients (/v1/models) and sent to upstream servers.
  virtual std::string model_name() const = 0;
  virtual void submit_generate(std::vector<GenerateRequest> requests, GenerateCallback done) = 0;
  virtual void submit_options(std::vector<OptionRequest> requests, OptionCallback done) = 0;
  virtual BackendStats stats() const { return {}; }

  // Blocking conveniences over submit_*(): futures aligned with the requests.
  std::vector<std::future<GenerateResult>> generate(std::vector<GenerateRequest> requests);
  std::vector<std::future<OptionResult>> option_distribution(std::vector<OptionRequest> requests);
  GenerateResult generate_one(GenerateRequest request);
  OptionResult option_distribution_one(OptionRequest request);
};

// "<kind>:<target>[,<target>...][?key=value&key=value]", e.g. "local:/models/qwen2.5-3b" or
// "openai:http://a:8000/v1,http://b:8000/v1?model=Qwen2.5-14B&concurrency=64".
struct BackendSpec {
  std::string kind;
  std::vector<std::string> targets;
  std::map<std::string, std::string> options;
  std::string text;  // the spec as given, for messages
};

// Throws util::Error (field = "backend") naming the problem: missing kind, no target, empty target,
// an option without '=' or with an empty key, a repeated option.
BackendSpec parse_backend_spec(std::string_view spec);

// Typed option access with clear errors; every option a backend reads must be consumed with these so
// that unknown options can be reported (BackendSpec::reject_unknown).
class SpecOptions {
 public:
  explicit SpecOptions(const BackendSpec& spec) : spec_(spec) {}
  std::string str(const std::string& key, const std::string& fallback);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double number(const std::string& key, double fallback, double min, double max);
  // Throws util::Error listing options no backend read (typos such as "concurency").
  void reject_unknown() const;

 private:
  const BackendSpec& spec_;
  std::vector<std::string> used_;
};

using BackendFactory = std::function<std::unique_ptr<Backend>(const BackendSpec&)>;

// Factory table kind -> implementation ("openai" always; "local" when backend/embedded is built).
// register_backend adds or replaces a kind (tests register doubles this way).
void register_backend(const std::string& kind, BackendFactory factory);
std::vector<std::string> backend_kinds();
std::unique_ptr<Backend> make_backend(const BackendSpec& spec);
std::unique_ptr<Backend> make_backend(std::string_view spec);

// The method's normalisation of letter log-probabilities (docs/method.md §7.5, §8.1): letters the backend
// did not report (nullopt) get probability 1e-10, then everything is renormalised to sum to 1 —
// with all letters present this is exactly the softmax restricted to the letter tokens.
inline constexpr double kMissingLetterFloor = 1e-10;
OptionResult letter_distribution(const std::vector<double>& logprobs_or_nan);

}  // namespace um::backend
