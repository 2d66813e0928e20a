// `usermirror serve --model DIR | --backend SPEC [--host 127.0.0.1] [--port N] [--api-key-env VAR]`
#include <cstdio>
#include <cstdlib>

#include "backend/backend.h"
#include "cli/command_registry.h"
#include "serve/serve.h"
#include "util/error.h"

namespace um::cli {

struct ServeCmdOptions {
  std::string model_dir;     // --model: the embedded engine on a Hugging Face directory
  std::string backend_spec;  // --backend: any backend spec (e.g. an openai: fleet to proxy)
  std::string api_key_env;   // --api-key-env: clients must send this variable's value as Bearer
  serve::ServeOptions serve;
};

int run_serve(const ServeCmdOptions& o) {
  if (o.model_dir.empty() == o.backend_spec.empty()) {
    throw util::Error("serve: give exactly one of --model DIR or --backend SPEC");
  }
  serve::ServeOptions so = o.serve;
  if (!o.api_key_env.empty()) {
    const char* key = std::getenv(o.api_key_env.c_str());
    if (!key || !*key) throw util::Error("serve: --api-key-env " + o.api_key_env + " is unset or empty");
    so.api_key = key;
  }
  serve::block_stop_signals();  // before the backend starts its threads
  auto be = backend::make_backend(o.backend_spec.empty() ? "local:" + o.model_dir : o.backend_spec);
  return serve::run_server_until_signal(*be, so, [](const std::string& url) {
    std::printf("listening on %s\n", url.c_str());
    std::fflush(stdout);
  });
}

Command serve_command() {
  return {
      "serve", "Serve a simulator over an OpenAI-compatible HTTP API (+ /v1/simulate)", [](CLI::App& app) {
        auto o = std::make_shared<ServeCmdOptions>();
        auto src = app.add_option_group("source", "What to serve");
        src->add_option("--model", o->model_dir, "Hugging Face model directory (embedded engine)");
        src->add_option("--backend", o->backend_spec,
                        "Backend spec, e.g. openai:http://gpu-a:8000/v1?model=Qwen2.5-14B");
        src->require_option(1);
        app.add_option("--host", o->serve.host, "Address to bind (default loopback only)")
            ->capture_default_str();
        app.add_option("--port", o->serve.port, "Port (0 = any free port)")->capture_default_str();
        app.add_option("--api-key-env", o->api_key_env,
                       "Require 'Authorization: Bearer <value of this environment variable>'");
        app.add_option("--max-concurrent", o->serve.max_concurrent, "Requests running on the backend at once")
            ->capture_default_str();
        app.add_option("--max-queue", o->serve.max_queue, "Requests waiting beyond that before 429")
            ->capture_default_str();
        app.add_option("--max-body-bytes", o->serve.max_body_bytes, "Largest accepted request body")
            ->capture_default_str();
        app.add_option("--max-tokens-limit", o->serve.max_tokens_limit, "Largest accepted max_tokens")
            ->capture_default_str();
        app.add_option("--max-n", o->serve.max_n, "Largest accepted n (samples per request)")
            ->capture_default_str();
        app.add_option("--drain-timeout", o->serve.drain_timeout_s,
                       "Seconds in-flight requests may still run after SIGTERM before they are aborted")
            ->capture_default_str();
        app.add_option("--request-timeout", o->serve.request_timeout_s,
                       "Time limit in seconds of every generating request (0 = none); past it the work is "
                       "cancelled and the client gets 504. X-Request-Timeout may shorten it per request")
            ->check(CLI::Range(0.0, 1e7))
            ->capture_default_str();
        app.add_option("--served-model-name", o->serve.model_alias,
                       "Extra model name clients may use besides the backend's");
        return [o] { return run_serve(*o); };
      }};
}

}  // namespace um::cli
