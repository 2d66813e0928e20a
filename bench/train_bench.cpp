// Training throughput of `usermirror train` (libtorch C++) versus the same model and step in Python
// PyTorch (bench/train_vs_pytorch.py on Debian's python3-torch), measured in the same run. Each side
// runs in its own process so peak RSS is its own.
//
//   build-x/bench/train_bench [--steps N] [--threads T] [--configs tiny,0.5b-lora] [--count-ops 1]
//
// Both sides: f32 weights, one synthetic [batch, seq] token batch with loss on the last 3/4 of every
// row, AdamW, one optimizer step per iteration; the first step is a warm-up and not timed. The first
// step's loss must agree (same function, same data). `--threads T` is torch's intra-op thread count
// and OpenBLAS's pool on both sides. tokens/s is over the total time of the timed steps; the ratio
// of the median step is printed beside it (less sensitive to other processes on a shared machine).
// The benchmark library is linked but the comparison needs its own driver (two processes per
// configuration).
//
// --count-ops 1 counts the operator events per step on both sides (every RecordFunction event:
// ATen operators, autograd nodes, optimizer scopes; the Python side through torch.autograd.profiler)
// and prints the totals and the operators whose counts differ most. Timings of such a run include
// the counting and are not comparable.
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model.h"
#include "train/train.h"
#include "util/progress.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Config {
  std::string name;
  um::model::InitOptions init;
  int64_t batch, seq, lora_rank;
};

std::vector<Config> configs() {
  std::vector<Config> out;
  um::model::InitOptions tiny;
  tiny.arch = "qwen2";
  tiny.layers = 2;
  tiny.hidden = 64;
  tiny.heads = 4;
  tiny.kv_heads = 2;
  tiny.intermediate = 128;
  tiny.vocab = 512;
  tiny.dtype = "f32";
  out.push_back({"tiny", tiny, 4, 128, 0});
  um::model::InitOptions half = tiny;  // Qwen2.5-0.5B's shape
  half.layers = 24;
  half.hidden = 896;
  half.heads = 14;
  half.kv_heads = 2;
  half.intermediate = 4864;
  half.vocab = 151936;
  half.tie_embeddings = true;
  half.dtype = "bf16";
  out.push_back({"0.5b-lora", half, 1, 256, 16});
  return out;
}

std::vector<um::train::TokenExample> batch(int64_t B, int64_t T, int64_t vocab) {
  std::vector<um::train::TokenExample> out;
  for (int64_t b = 0; b < B; ++b) {
    um::train::TokenExample e;
    for (int64_t t = 0; t < T; ++t)
      e.ids.push_back(static_cast<int32_t>((b * 7919 + t * 104729 + 13) % vocab));
    e.target.assign(static_cast<size_t>(T), 0);
    for (int64_t t = T / 4; t < T; ++t) e.target[static_cast<size_t>(t)] = 1;
    out.push_back(std::move(e));
  }
  return out;
}

std::mutex ops_mu;
std::map<std::string, int64_t> ops_seen;

void count_ops() {
  at::addGlobalCallback(
      at::RecordFunctionCallback([](const at::RecordFunction& f) -> std::unique_ptr<at::ObserverContext> {
        std::lock_guard<std::mutex> lock(ops_mu);
        ++ops_seen[f.name()];
        return nullptr;
      }));
}

// Events per step by name (the counting covers the whole run, model loading included).
json ops_per_step(size_t steps) {
  json out = json::object();
  std::lock_guard<std::mutex> lock(ops_mu);
  for (const auto& [name, n] : ops_seen) out[name] = static_cast<double>(n) / static_cast<double>(steps);
  return out;
}

double total_ops(const json& ops) {
  double t = 0;
  for (const auto& [name, n] : ops.items()) t += n.get<double>();
  return t;
}

// One side of one configuration, in this (child) process.
int child(const Config& c, const fs::path& model_dir, int steps, int threads, bool ops) {
  um::train::TrainOptions o = um::train::sft_defaults();
  o.model_dir = model_dir;
  o.out_dir = model_dir / "run";
  o.steps = steps + 1;
  o.batch_size = c.batch;
  o.grad_accum = 1;
  o.lr = 1e-4;
  o.warmup_steps = 0;
  o.lora.rank = c.lora_rank;
  o.export_model = false;
  o.plot = false;
  o.threads = threads;
  if (ops) count_ops();
  auto r = um::train::run_sft_tokens(o, batch(c.batch, c.seq, c.init.vocab));
  double secs = 0;
  int64_t tokens = 0;
  std::vector<double> each;
  for (size_t i = 1; i < r.steps.size(); ++i) {
    secs += r.steps[i].seconds;
    tokens += r.steps[i].tokens;
    each.push_back(r.steps[i].seconds);
  }
  std::sort(each.begin(), each.end());
  json out = {{"impl", "usermirror"},
              {"first_loss", r.steps[0].loss},
              {"tokens_per_s", static_cast<double>(tokens) / secs},
              {"s_per_step", secs / static_cast<double>(r.steps.size() - 1)},
              {"median_s_per_step", each.empty() ? 0.0 : each[each.size() / 2]},
              {"params", r.total_params},
              {"trainable", r.trainable_params},
              {"peak_rss_bytes", um::util::peak_rss_bytes()}};
  if (ops) out["ops"] = ops_per_step(r.steps.size());
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

json run_json(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) {
    std::fprintf(stderr, "failed: %s\n%s\n", cmd.c_str(), out.c_str());
    return {};
  }
  // The result is the last line that starts with '{'.
  auto nl = out.rfind("\n{", out.size() > 1 ? out.size() - 2 : 0);
  return json::parse(out.substr(nl == std::string::npos ? 0 : nl + 1));
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 4, threads = 2;
  bool ops = false;
  std::string only, child_cfg, child_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--steps") steps = std::atoi(v.c_str());
    if (a == "--threads") threads = std::atoi(v.c_str());
    if (a == "--configs") only = "," + v + ",";
    if (a == "--child") child_cfg = v;
    if (a == "--dir") child_dir = v;
    if (a == "--count-ops") ops = v == "1";
  }
  const fs::path src = fs::path(__FILE__).parent_path().parent_path();
  for (const auto& c : configs()) {
    if (!child_cfg.empty()) {
      if (c.name == child_cfg) return child(c, child_dir, steps, threads, ops);
      continue;
    }
    if (!only.empty() && only.find("," + c.name + ",") == std::string::npos) continue;
    um::model::InitOptions init = c.init;
    init.tokenizer_dir = src.parent_path() / "shared" / "tokenizers" / "qwen3";
    init.out_dir = fs::temp_directory_path() / ("um-train-bench-" + c.name);
    if (!fs::exists(init.out_dir / "model.safetensors")) um::model::init_random_model(init);
    const std::string common = " --steps " + std::to_string(steps) + " --threads " + std::to_string(threads) +
                               (ops ? " --count-ops 1" : "");
    json ours =
        run_json(std::string(argv[0]) + " --child " + c.name + " --dir " + init.out_dir.string() + common);
    std::string py = "/usr/bin/python3 " + (src / "bench" / "train_vs_pytorch.py").string() + " --model " +
                     init.out_dir.string() + " --batch " + std::to_string(c.batch) + " --seq " +
                     std::to_string(c.seq) + " --lora-rank " + std::to_string(c.lora_rank) + common;
    json theirs = run_json(py);
    if (ours.is_null() || theirs.is_null()) return 1;
    const double ratio = ours["tokens_per_s"].get<double>() / theirs["tokens_per_s"].get<double>();
    const double median_ratio =
        theirs["median_s_per_step"].get<double>() / ours["median_s_per_step"].get<double>();
    std::printf("%-10s params %.1fM trainable %.2fM  batch %lldx%lld  threads %d\n", c.name.c_str(),
                ours["params"].get<double>() / 1e6, ours["trainable"].get<double>() / 1e6,
                static_cast<long long>(c.batch), static_cast<long long>(c.seq), threads);
    for (const json* j : {&ours, &theirs}) {
      std::printf("  %-11s %10.1f tokens/s  %8.3f s/step  peak RSS %8s  first loss %.6f\n",
                  (*j)["impl"].get<std::string>().c_str(), (*j)["tokens_per_s"].get<double>(),
                  (*j)["s_per_step"].get<double>(),
                  um::util::human_bytes((*j)["peak_rss_bytes"].get<uint64_t>()).c_str(),
                  (*j)["first_loss"].get<double>());
    }
    std::printf("  ratio usermirror / pytorch: %.2fx (of the median step: %.2fx)\n", ratio, median_ratio);
    if (ops && ours.contains("ops") && theirs.contains("ops")) {
      const json &a = ours["ops"], &b = theirs["ops"];
      std::printf("  operator events per step: usermirror %.0f, pytorch %.0f; largest differences:\n",
                  total_ops(a), total_ops(b));
      std::vector<std::pair<double, std::string>> diff;
      for (const json* side : {&a, &b}) {
        for (const auto& [name, n] : side->items()) {
          const double d = a.value(name, 0.0) - b.value(name, 0.0);
          if (std::abs(d) >= 0.5 && (side == &a || !a.contains(name))) diff.emplace_back(d, name);
        }
      }
      std::sort(diff.begin(), diff.end(),
                [](const auto& x, const auto& y) { return std::abs(x.first) > std::abs(y.first); });
      for (size_t i = 0; i < diff.size() && i < 12; ++i)
        std::printf("    %+8.1f  %s (%.1f vs %.1f)\n", diff[i].first, diff[i].second.c_str(),
                    a.value(diff[i].second, 0.0), b.value(diff[i].second, 0.0));
    }
    std::fflush(stdout);
  }
  return 0;
}
