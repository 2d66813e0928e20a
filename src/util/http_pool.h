#pragma once
// HttpPool: many concurrent HTTP POSTs over libcurl's multi interface on ONE event-loop thread
// (no thread per request). Several endpoints share the load by least outstanding requests, each
// capped at `concurrency` in-flight requests; failed attempts are retried with exponential backoff
// and full jitter on transport errors (connect, timeout, reset, truncated body), 408, 429 and 5xx,
// honouring Retry-After; other 4xx answers fail at once. An endpoint that refuses connections is
// rested (doubling, up to backoff_max) while others are up.
//
// Thread safety: post() may be called from any thread. Callbacks run on the loop thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace um::util {

struct HttpPoolConfig {
  std::vector<std::string> endpoints;  // base URLs without trailing '/', e.g. http://127.0.0.1:8000/v1
  int concurrency = 16;                // in-flight requests per endpoint
  double timeout_s = 600;              // per attempt, whole transfer
  double connect_timeout_s = 10;
  int max_attempts = 6;  // first attempt + retries
  double backoff_base_s = 0.5;
  double backoff_max_s = 30;
  double retry_after_max_s = 300;  // cap on a server's Retry-After
  std::string api_key;             // sent as "Authorization: Bearer"; never logged or put in errors
  uint64_t jitter_seed = 0x5eed;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string request_id;  // the server's x-request-id header, if any
  std::string endpoint;
};

// How a request finally failed, for error messages and callers that adapt (e.g. resend without an
// option an endpoint rejected).
struct HttpFailure {
  long status = 0;      // 0 = transport error
  std::string body;     // response body (4xx/5xx)
  std::string message;  // human-readable, includes URL, status/curl error, request id, attempts
  std::string request_id;
  int attempts = 0;        // attempts made before giving up
  bool timed_out = false;  // the last attempt ran past timeout_s (or connect_timeout_s)
};

struct HttpJob {
  std::string path;  // appended to the endpoint, e.g. "/chat/completions"
  std::string body;  // JSON
  std::string key;   // caller's request key, sent as X-Request-Id and quoted in errors
  // Called with a 2xx answer; returns "" when the answer was accepted (and delivered by the
  // callback), or a reason to treat the attempt as a server fault and retry (e.g. truncated JSON).
  std::function<std::string(HttpResponse&)> on_success;
  // Called once when the job cannot succeed (non-retryable status, attempts exhausted, shutdown).
  std::function<void(HttpFailure&&)> on_failure;
};

struct HttpPoolStats {
  int64_t attempts = 0;
  int64_t retries = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
};

class HttpPool {
 public:
  explicit HttpPool(HttpPoolConfig config);
  // Fails queued and in-flight jobs ("client shut down") and joins the loop thread.
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  void post(HttpJob job);
  HttpPoolStats stats() const;
  const HttpPoolConfig& config() const { return config_; }

 private:
  struct State;
  void loop();

  HttpPoolConfig config_;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace um::util
