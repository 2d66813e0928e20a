// End-to-end generation through `serve` against the engine's forward-only decode, in one run, on a
// random-weight model shaped like Qwen2.5-0.5B with the padded vocabulary of the real configs
// (vocab_size 151,936 for the 151,669-id tokenizer: the padding rows are masked by the backend).
// Forward-only: Session::append of one token per step (no sampling). Through serve: /v1/completions
// over loopback HTTP (embedded backend, one worker), 64 new tokens from a 16-token prompt, greedy and
// sampled; rate = completion tokens / wall time of the request (prefill included).
//
//   build/bench/serve_generate_bench [MODEL_DIR]   (default /tmp/um-bench/qwen2.5-0.5b-shape)
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/backend.h"
#include "model/init.h"
#include "model/model.h"
#include "serve/serve.h"

namespace {
namespace fs = std::filesystem;
using namespace um;
using Clock = std::chrono::steady_clock;

fs::path model_dir(int argc, char** argv) {
  fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::path("/tmp/um-bench/qwen2.5-0.5b-shape");
  if (!fs::exists(dir / "config.json")) {
    model::InitOptions o;
    o.arch = "qwen2";
    o.layers = 24;
    o.hidden = 896;
    o.heads = 14;
    o.kv_heads = 2;
    o.intermediate = 4864;
    o.vocab = 151936;
    o.tie_embeddings = true;
    o.dtype = "bf16";
    o.seed = 1;
    const char* shared = std::getenv("UM_SHARED_DIR");
    o.tokenizer_dir =
        (shared ? fs::path(shared) : fs::path(__FILE__).parent_path() / "../../shared") / "tokenizers/qwen3";
    o.out_dir = dir;
    std::fprintf(stderr, "writing benchmark model to %s\n", dir.c_str());
    model::init_random_model(o);
  }
  return dir;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = model_dir(argc, argv);
  const int kTokens = 64;
  std::vector<int32_t> prompt;
  for (int i = 0; i < 16; ++i) prompt.push_back(1000 + 37 * i);

  // Forward-only decode rate.
  double forward_rate = 0;
  {
    auto m = model::Model::load(dir, {.dtype = model::DType::BF16});
    model::Session s(m, 0);
    for (int rep = 0; rep < 2; ++rep) {  // the first repetition warms up
      model::Logits last;
      model::SeqId seq = s.prefill_cached(prompt, &last);
      auto t0 = Clock::now();
      for (int t = 0; t < kTokens; ++t) {
        int32_t tok = 2000 + t;
        s.append(seq, std::span<const int32_t>(&tok, 1));
      }
      forward_rate = kTokens / seconds_since(t0);
      s.release(seq);
    }
  }

  auto be = backend::make_backend("local:" + dir.string() + "?prefix_cache=0");
  serve::ServeOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  serve::Server server(*be, so);
  const int port = server.bind();
  std::thread run([&] { server.run(); });
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(600);
  struct Case {
    const char* name;
    double temperature, top_p;
  };
  std::printf("load average %s", [] {
    static char buf[64] = "?\n";
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (!std::fgets(buf, sizeof buf, f)) buf[0] = 0;
      std::fclose(f);
    }
    return buf;
  }());
  std::printf("forward-only decode: %.2f tok/s\n", forward_rate);
  for (const Case& c :
       {Case{"greedy", 0.0, 1.0}, Case{"T=1 top_p=0.9", 1.0, 0.9}, Case{"T=1 top_p=1", 1.0, 1.0}}) {
    for (int rep = 0; rep < 2; ++rep) {
      nlohmann::json body = {{"model", be->model_name()},    {"prompt", prompt}, {"max_tokens", kTokens},
                             {"temperature", c.temperature}, {"top_p", c.top_p}, {"seed", 7 + rep}};
      auto t0 = Clock::now();
      auto res = http.Post("/v1/completions", body.dump(), "application/json");
      const double wall = seconds_since(t0);
      if (!res || res->status != 200) {
        std::printf("%s: request failed: %s\n", c.name, res ? res->body.c_str() : "no answer");
        continue;
      }
      const auto j = nlohmann::json::parse(res->body);
      const double tokens = j["usage"]["completion_tokens"].get<double>();
      std::printf("serve %-14s run %d: %3.0f tokens, %.2f tok/s = %.2f x forward-only\n", c.name, rep, tokens,
                  tokens / wall, tokens / wall / forward_rate);
    }
  }
  server.stop();
  run.join();
  return 0;
}
