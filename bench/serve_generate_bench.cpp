// End-to-end generation through `serve` against the engine's forward-only decode, in one run, on a
// random-weight model shaped like Qwen2.5-0.5B with the padded vocabulary of the real configs
// (vocab_size 151,936 for the 151,669-id tokenizer: the padding rows are masked by the backend).
//  1. Whether a row of a batched decode step is bit-identical to the same sequence decoded alone
//     (bf16 and f32 compute): what continuous batching's reproducibility rests on.
//  2. Forward-only decode: Session::append_batch of one token for each of b sequences per step (no
//     sampling), b = 1, 4, 16; rate = b × steps / time. Measured right before and right after each
//     serve measurement below (the machine is shared and its load drifts); ratios use their mean.
//  3. One client through serve: /v1/completions over loopback HTTP (embedded backend, one worker), 64
//     new tokens from a 16-token prompt, greedy and sampled; rate = completion tokens / wall time of
//     the request (prefill included), against forward-only decode at b = 1.
//  4. C = 1, 4, 16 concurrent streaming clients (/v1/completions, stream, include_usage, T = 1,
//     top_p 0.9, then greedy; 64 tokens, distinct 16-token prompts, all started together): aggregate rate =
//     all completion tokens / wall time of the round, against forward-only decode at b = C and against
//     the engine's own batched generation with the same sampler (model::generate, n = C, draws
//     included), and against the engine doing the clients' own work without HTTP (their C distinct
//     prompts prefilled as the backend prefills joiners, then decoded in one batched step per token
//     with each prompt's sampler); time to first token (first streamed text) and inter-token latency
//     (gaps between streamed chunks), p50 / p99.
//
//   build/bench/serve_generate_bench [MODEL_DIR [concurrent [C [TOKENS]]]]
//   (default /tmp/um-bench/qwen2.5-0.5b-shape; C: only that client count; TOKENS: new tokens per
//   concurrent client, default 64)
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/backend.h"
#include "model/init.h"
#include "model/model.h"
#include "serve/serve.h"
#include "util/thread_pool.h"

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

std::string loadavg() {
  char buf[128] = "?\n";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(buf, sizeof buf, f)) std::strcpy(buf, "?\n");
    std::fclose(f);
  }
  return buf;
}

std::vector<int32_t> prompt_ids(int salt) {
  std::vector<int32_t> p;
  for (int i = 0; i < 16; ++i) p.push_back((1000 + 37 * i + 101 * salt) % 150000);
  return p;
}

// Rows of batched decode steps (b = 2..16, sequences of different lengths) that differ in any bit from
// the same step taken alone.
void batch_identity(const fs::path& dir, model::DType dtype) {
  auto m = model::Model::load(dir, {.dtype = dtype});
  model::Session s(m, 0);
  std::vector<model::SeqId> base;
  for (int i = 0; i < 16; ++i) {
    base.push_back(s.create());
    std::vector<int32_t> p = prompt_ids(i);
    p.resize(static_cast<size_t>(4 + i));
    s.append(base.back(), p);
  }
  size_t rows = 0, differ = 0;
  for (size_t b : {2u, 4u, 7u, 16u}) {
    std::vector<model::Append> step;
    for (size_t i = 0; i < b; ++i) step.push_back({s.fork(base[i]), {static_cast<int32_t>(3000 + i)}, false});
    model::Logits got = s.append_batch(step);
    for (size_t i = 0; i < b; ++i) {
      model::SeqId one = s.fork(base[i]);
      model::Logits want = s.append(one, std::vector<int32_t>{static_cast<int32_t>(3000 + i)});
      ++rows;
      differ += std::memcmp(got.row(i).data(), want.row(0).data(), want.cols * sizeof(float)) != 0;
      s.release(one);
      s.release(step[i].seq);
    }
  }
  std::printf("batched decode rows bit-identical to alone, %s: %zu of %zu\n", model::dtype_name(dtype),
              rows - differ, rows);
}

// Forward-only decode of b sequences in one append_batch per step.
double forward_rate(const std::shared_ptr<const model::Model>& m, size_t b, int steps) {
  model::Session s(m, 0);
  std::vector<model::SeqId> seqs;
  for (size_t i = 0; i < b; ++i) {
    model::Logits last;
    seqs.push_back(s.prefill_cached(prompt_ids(static_cast<int>(i)), &last));
  }
  double rate = 0;
  for (int rep = 0; rep < 2; ++rep) {  // the first repetition warms up
    auto t0 = Clock::now();
    for (int t = 0; t < steps; ++t) {
      std::vector<model::Append> step;
      for (size_t i = 0; i < b; ++i)
        step.push_back({seqs[i], {static_cast<int32_t>(2000 + t + rep * steps)}, false});
      s.append_batch(step);
    }
    rate = static_cast<double>(b) * steps / seconds_since(t0);
  }
  return rate;
}

// The engine's batched decode with its sampler: model::generate with n = b samples of one prompt (one
// append_batch per step, every row drawn, the draws on all cores as the backend does), EOS ignored.
double generate_rate(const std::shared_ptr<const model::Model>& m, int b, int steps, double temperature,
                     double top_p) {
  model::Session s(m, 0);
  model::GenerateOptions o;
  o.n = b;
  o.max_tokens = steps;
  o.ignore_eos = true;
  o.sampling = {.temperature = temperature, .top_p = top_p};
  double rate = 0;
  for (int rep = 0; rep < 2; ++rep) {  // the first repetition warms up
    o.seed = static_cast<uint64_t>(rep + 1);
    auto t0 = Clock::now();
    model::generate(s, prompt_ids(90 + rep), o);
    rate = static_cast<double>(b) * steps / seconds_since(t0);
  }
  return rate;
}

// The serve workload without HTTP: b distinct prompts (the concurrent clients' own) prefilled as the
// embedded backend prefills joiners (runs whose last blocks model::prefill_together_exact allows in one
// forward, the others alone), then decoded in one batched step per token with each prompt's own
// sampler stream, the draws on all cores; EOS ignored. Rate = all new tokens / time incl. the prefills.
double distinct_generate_rate(const std::shared_ptr<const model::Model>& m, int b, int steps, int salt,
                              double temperature, double top_p) {
  double rate = 0;
  for (int rep = 0; rep < 2; ++rep) {  // the first repetition warms up
    model::Session s(m, 0);
    std::vector<std::vector<int32_t>> prompts;
    std::vector<model::GenerateOptions> opts(static_cast<size_t>(b));
    for (int c = 0; c < b; ++c) {
      prompts.push_back(prompt_ids(salt + c));
      auto& o = opts[static_cast<size_t>(c)];
      o.max_tokens = steps;
      o.ignore_eos = true;
      o.seed = static_cast<uint64_t>(salt + c + rep);
      o.sampling = {.temperature = temperature, .top_p = top_p};
    }
    auto t0 = Clock::now();
    std::vector<std::unique_ptr<model::Generation>> gens;
    std::vector<size_t> last_rows;
    for (const auto& p : prompts) last_rows.push_back(model::Session::last_block_rows(p.size(), 0));
    size_t i = 0;
    for (const size_t j : model::prefill_runs(*m, last_rows)) {
      if (j - i < 2) {
        gens.push_back(std::make_unique<model::Generation>(s, prompts[i], opts[i]));
        i = j;
        continue;
      }
      std::vector<model::Session::PrefillPrompt> group;
      for (size_t k = i; k < j; ++k) group.push_back({prompts[k], 0});
      model::Logits first;
      std::vector<model::SeqId> seqs = s.prefill_cached_together(group, &first);
      for (size_t k = i; k < j; ++k)
        gens.push_back(std::make_unique<model::Generation>(s, seqs[k - i], first.row(k - i), opts[k]));
      i = j;
    }
    size_t tokens = static_cast<size_t>(b);  // the first token of each, drawn at the prefill
    for (;;) {
      std::vector<model::Append> step;
      std::vector<size_t> first_row;
      for (auto& g : gens) {
        first_row.push_back(step.size());
        if (!g->done()) g->add_to_step(step);
      }
      if (step.empty()) break;
      model::Logits l = s.append_batch(step);
      std::vector<std::pair<size_t, size_t>> rows;
      for (size_t g = 0; g < gens.size(); ++g) {
        if (gens[g]->done()) continue;
        const size_t r = gens[g]->begin_take(l, first_row[g]);
        for (size_t k = 0; k < r; ++k) rows.emplace_back(g, k);
      }
      util::parallel_for(rows.size(), 0, [&](size_t k) { gens[rows[k].first]->draw(rows[k].second); });
      for (auto& g : gens)
        if (!g->done()) g->end_take();
      tokens += rows.size();
    }
    rate = static_cast<double>(tokens) / seconds_since(t0);
  }
  return rate;
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

struct Round {
  double tokens = 0, wall = 0;
  int errors = 0;
  std::vector<double> ttft, itl;  // seconds
};

// C streaming clients started together, each one request.
Round concurrent_round(int port, const std::string& model, int clients, int tokens, int salt,
                       double temperature, double top_p) {
  Round out;
  std::mutex mu;
  std::vector<std::thread> threads;
  auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      nlohmann::json body = {{"model", model},       {"prompt", prompt_ids(salt + c)},
                             {"max_tokens", tokens}, {"temperature", temperature},
                             {"top_p", top_p},       {"seed", salt + c},
                             {"stream", true},       {"stream_options", {{"include_usage", true}}}};
      httplib::Client http("127.0.0.1", port);
      http.set_read_timeout(600);
      httplib::Request req;
      req.method = "POST";
      req.path = "/v1/completions";
      req.body = body.dump();
      req.set_header("Content-Type", "application/json");
      std::string buf;
      double completion = 0, last = -1;
      std::vector<double> ttft, itl;
      auto start = Clock::now();
      req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        buf.append(data, len);
        size_t end;
        while ((end = buf.find("\n\n")) != std::string::npos) {
          std::string ev = buf.substr(0, end);
          buf.erase(0, end + 2);
          if (ev.rfind("data: ", 0) != 0 || ev == "data: [DONE]") continue;
          auto j = nlohmann::json::parse(ev.substr(6), nullptr, false);
          if (j.is_discarded()) continue;
          if (j.contains("usage") && j["usage"].is_object())
            completion = j["usage"]["completion_tokens"].get<double>();
          if (!j.contains("choices") || j["choices"].empty() ||
              j["choices"][0]["text"].get<std::string>().empty())
            continue;
          const double now = seconds_since(start);
          if (last < 0) {
            ttft.push_back(now);
          } else {
            itl.push_back(now - last);
          }
          last = now;
        }
        return true;
      };
      httplib::Response res;
      httplib::Error err = httplib::Error::Success;
      const bool ok = http.send(req, res, err) && res.status == 200 && completion > 0;
      std::lock_guard lock(mu);
      if (!ok) ++out.errors;
      out.tokens += completion;
      out.ttft.insert(out.ttft.end(), ttft.begin(), ttft.end());
      out.itl.insert(out.itl.end(), itl.begin(), itl.end());
    });
  }
  for (auto& t : threads) t.join();
  out.wall = seconds_since(t0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const fs::path dir = model_dir(argc, argv);
  const int kTokens = 64;
  const std::vector<int32_t> prompt = prompt_ids(0);
  std::printf("load average at start %s", loadavg().c_str());

  // argv[2] = "concurrent": only the concurrent-clients part (4).
  const bool all = argc < 3 || std::string(argv[2]) != "concurrent";
  if (all) {
    batch_identity(dir, model::DType::BF16);
    batch_identity(dir, model::DType::F32);
  }

  // Forward-only rates are measured right before and after each serve measurement (the machine is
  // shared: its load drifts), and the serve rate is compared with their mean.
  auto m = model::Model::load(dir, {.dtype = model::DType::BF16});
  auto forward = [&](int b) { return forward_rate(m, static_cast<size_t>(b), b == 1 ? kTokens : 32); };
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
  for (const Case& c :
       all ? std::vector<Case>{{"greedy", 0.0, 1.0}, {"T=1 top_p=0.9", 1.0, 0.9}, {"T=1 top_p=1", 1.0, 1.0}}
           : std::vector<Case>{}) {
    for (int rep = 0; rep < 2; ++rep) {
      nlohmann::json body = {{"model", be->model_name()},    {"prompt", prompt}, {"max_tokens", kTokens},
                             {"temperature", c.temperature}, {"top_p", c.top_p}, {"seed", 7 + rep}};
      const double before = forward(1);
      auto t0 = Clock::now();
      auto res = http.Post("/v1/completions", body.dump(), "application/json");
      const double wall = seconds_since(t0);
      const double ref = (before + forward(1)) / 2;
      if (!res || res->status != 200) {
        std::printf("%s: request failed: %s\n", c.name, res ? res->body.c_str() : "no answer");
        continue;
      }
      const auto j = nlohmann::json::parse(res->body);
      const double tokens = j["usage"]["completion_tokens"].get<double>();
      std::printf(
          "serve 1 client %-14s run %d: %3.0f tokens, %.2f tok/s; forward-only b=1 %.2f tok/s; ratio %.2f\n",
          c.name, rep, tokens, tokens / wall, ref, tokens / wall / ref);
    }
  }
  // Sampled clients (T = 1, top_p 0.9: each row's draw is O(vocabulary), ~2.3 ms on 151,936 logits)
  // and greedy ones (an argmax, as in the issue's own four-client measurement).
  const std::vector<int> counts =
      argc > 3 ? std::vector<int>{std::atoi(argv[3])} : std::vector<int>{1, 4, 16};
  const int round_tokens = argc > 4 ? std::atoi(argv[4]) : kTokens;
  for (int clients : counts) {
    for (const Case& c : {Case{"T=1 top_p=0.9", 1.0, 0.9}, Case{"greedy", 0.0, 1.0}}) {
      const double before = forward(clients);
      const double gen_before = generate_rate(m, clients, round_tokens, c.temperature, c.top_p);
      Round r = concurrent_round(port, be->model_name(), clients, round_tokens, 17 * clients, c.temperature,
                                 c.top_p);
      const double ref = (before + forward(clients)) / 2;
      const double gen = (gen_before + generate_rate(m, clients, round_tokens, c.temperature, c.top_p)) / 2;
      const double distinct =
          distinct_generate_rate(m, clients, round_tokens, 17 * clients, c.temperature, c.top_p);
      std::printf(
          "serve %2d streaming clients %-13s: %4.0f tokens in %.2f s = %.2f tok/s; forward-only b=%d %.2f "
          "tok/s, "
          "ratio %.2f; engine generate n=%d %.2f tok/s, ratio %.2f; engine, the %d prompts batched %.2f "
          "tok/s, ratio %.2f; "
          "TTFT p50 %.0f ms p99 %.0f ms; inter-token p50 %.0f ms p99 %.0f ms; errors %d\n",
          clients, c.name, r.tokens, r.wall, r.tokens / r.wall, clients, ref, r.tokens / r.wall / ref,
          clients, gen, r.tokens / r.wall / gen, clients, distinct, r.tokens / r.wall / distinct,
          1e3 * pct(r.ttft, 0.5), 1e3 * pct(r.ttft, 0.99), 1e3 * pct(r.itl, 0.5), 1e3 * pct(r.itl, 0.99),
          r.errors);
    }
  }
  server.stop();
  run.join();
  std::printf("load average at end %s", loadavg().c_str());
  return 0;
}
