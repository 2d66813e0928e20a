#pragma once
// serve — an OpenAI-compatible HTTP server over any backend::Backend (embedded engine, or an
// `openai:` fleet, making usermirror a proxy), so recommender experiments can call the simulator.
//
//   auto be = backend::make_backend("openai:http://127.0.0.1:8000/v1?model=sim");
//   serve::Server server(*be, {.port = 0});
//   int port = server.bind();          // 0 = any free port
//   std::thread t([&] { server.run(); });
//   ...; server.stop(); t.join();      // finishes in-flight requests first
//
// Endpoints: GET /health, GET /v1/models, POST /v1/chat/completions (n, temperature, top_p, top_k,
// min_p, max_tokens, stop, seed, logprobs/top_logprobs, stream via server-sent events),
// POST /v1/completions (prompt string, token ids or a list of them; logprobs; allowed_token_ids),
// POST /v1/simulate (option distribution + sampled choice for already-built scene messages).
//
// Safety: binds 127.0.0.1 unless told otherwise; optional Bearer API key compared in constant time;
// request bodies above max_body_bytes get 413; max_tokens above max_tokens_limit and n above max_n
// get 400; at most max_concurrent requests run on the backend and max_queue wait, beyond that 429
// with Retry-After. Every error is an OpenAI-format JSON object {"error":{message,type,param,code}}.
// Streaming (chat and completions, stream_options.include_usage): token by token as the backend
// produces text (GenerateRequest::on_delta, with per-token logprobs); a backend that cannot stream
// sends each finished sample as one delta. A client that disconnects cancels its request's work —
// generation, option distributions, both modes of /v1/simulate (the embedded engine stops within one
// decode step, prefill block or block step). stop() drains: in-flight requests get drain_timeout_s
// to finish, then what is left is cancelled and answered with an error (503).
//
// Deadlines: a request may carry the header `X-Request-Timeout: <seconds>` (a positive number,
// fractions allowed; anything else gets 400) on /v1/chat/completions, /v1/completions and
// /v1/simulate; request_timeout_s (`--request-timeout`, 0 = none) is the server's limit, applied to
// requests without the header and bounding those with it (the smaller wins). The limit counts from
// when the request arrives, the wait for a backend slot included. When it passes, the request's work
// is cancelled (the embedded engine stops within one decode step) and the client gets 504,
// {"error":{"type":"timeout_error","code":"request_timeout","message":"request timed out after its
// S s limit; ..."}}; a stream already started gets that error as an SSE event, then `data: [DONE]`.
// A backend that cannot cancel (an `openai:` upstream) finishes the request, which is answered
// normally.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "backend/backend.h"

namespace um::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8000;      // 0 = any free port (see Server::bind)
  std::string api_key;  // empty = no authentication
  size_t max_body_bytes = 8u << 20;
  int max_tokens_limit = 8192;
  int max_n = 64;
  int max_concurrent = 32;  // requests running on the backend at once
  int max_queue = 64;       // requests waiting for a backend slot; beyond: 429
  int retry_after_s = 1;
  int max_logprobs = 20;
  std::string model_alias;   // extra accepted model name besides the backend's
  int drain_timeout_s = 30;  // stop()/SIGTERM: how long in-flight requests may still run
  // Time limit of every generating request in seconds (0 = none); X-Request-Timeout may shorten it.
  double request_timeout_s = 0;
};

struct ServeStats {
  int64_t requests = 0;
  int64_t errors_4xx = 0;
  int64_t errors_5xx = 0;
  int64_t rejected_busy = 0;  // 429s
};

class Server {
 public:
  Server(backend::Backend& backend, ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port; returns the bound port. Throws util::Error when the address is unavailable.
  int bind();
  // Serves until stop(); returns after in-flight requests are answered.
  void run();
  // Thread-safe and idempotent; stops accepting, in-flight requests finish or, after
  // drain_timeout_s, are cancelled with an error answer.
  void stop();
  ServeStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGTERM and SIGINT in the calling thread, so threads created afterwards (backend client
// loops, engine workers) inherit the mask and the signal reaches run_server_until_signal's watcher
// instead of killing the process. Call before creating the backend.
void block_stop_signals();

// The `usermirror serve` loop: binds, calls on_ready("http://HOST:PORT"), serves until SIGTERM or
// SIGINT (then drains in-flight requests for at most drain_timeout_s) and returns 0.
int run_server_until_signal(backend::Backend& backend, const ServeOptions& options,
                            const std::function<void(const std::string& url)>& on_ready);

}  // namespace um::serve
