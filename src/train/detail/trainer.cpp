#include "train/detail/trainer.h"

#include <dlfcn.h>
#if defined(__GLIBC__)
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numbers>
#include <numeric>

#include "model/model.h"
#include "train/detail/artifacts.h"
#include "util/error.h"
#include "util/heap.h"
#include "util/rng.h"

namespace um::train::detail {

namespace fs = std::filesystem;

double cosine_with_warmup(int64_t s, int64_t warmup, int64_t total) {
  if (s < warmup) return static_cast<double>(s) / static_cast<double>(std::max<int64_t>(1, warmup));
  const double progress =
      static_cast<double>(s - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * 2.0 * 0.5 * progress)));
}

LmOptions lm_options(const TrainOptions& o) {
  LmOptions l;
  if (o.compute_dtype == "bf16") {
    l.compute = torch::kBFloat16;
  } else if (o.compute_dtype != "f32") {
    throw util::NotSupported("compute dtype '" + o.compute_dtype + "' is not supported (f32, bf16)",
                             {.field = "compute_dtype"});
  }
  l.lora = o.lora;
  l.activation_checkpointing = o.activation_checkpointing;
  l.seed = o.seed;
  return l;
}

namespace {

void validate(const TrainOptions& o, int64_t n) {
  auto bad = [](const std::string& field, const std::string& msg) {
    throw util::Error(msg, {.field = field});
  };
  if (n == 0) bad("data", "no training examples");
  if (o.batch_size < 1) bad("batch_size", "must be >= 1");
  if (o.grad_accum < 1) bad("grad_accum", "must be >= 1");
  if (o.steps < 0) bad("steps", "must be >= 0");
  if (o.steps == 0 && o.epochs < 1) bad("epochs", "must be >= 1 when steps is 0");
  if (!(o.lr >= 0)) bad("lr", "must be >= 0");
  if (o.warmup_steps < 0) bad("warmup_steps", "must be >= 0");
  if (o.lora.rank > 0 && !(o.lora.dropout >= 0 && o.lora.dropout < 1))
    bad("lora_dropout", "must be in [0, 1)");
  if (o.out_dir.empty()) bad("out", "an output directory is required");
}

nlohmann::ordered_json run_fingerprint(const TrainOptions& o, const Objective& obj, int64_t total) {
  nlohmann::ordered_json f;
  f["model_dir"] = fs::absolute(o.model_dir).lexically_normal().string();
  f["objective"] = obj.fingerprint();
  f["total_steps"] = total;
  f["batch_size"] = o.batch_size;
  f["grad_accum"] = o.grad_accum;
  f["lr"] = o.lr;
  f["weight_decay"] = o.weight_decay;
  f["betas"] = {o.beta1, o.beta2};
  f["eps"] = o.eps;
  f["warmup_steps"] = o.warmup_steps;
  f["max_grad_norm"] = o.max_grad_norm;
  f["seed"] = o.seed;
  f["lora"] = {o.lora.rank, o.lora.alpha, o.lora.dropout, o.lora.targets};
  f["compute_dtype"] = o.compute_dtype;
  return f;
}

// Per-epoch seeded permutations of the example indices.
class DataOrder {
 public:
  DataOrder(uint64_t seed, int64_t n, int64_t per_step) : seed_(seed), n_(n), per_step_(per_step) {
    steps_per_epoch_ = std::max<int64_t>(1, n / per_step);
  }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  std::vector<int64_t> step(int64_t s) {
    const int64_t e = s / steps_per_epoch_, off = (s % steps_per_epoch_) * per_step_;
    const auto& p = perm(e);
    std::vector<int64_t> idx(static_cast<size_t>(per_step_));
    for (int64_t j = 0; j < per_step_; ++j)
      idx[static_cast<size_t>(j)] = p[static_cast<size_t>((off + j) % n_)];
    return idx;
  }

 private:
  const std::vector<int64_t>& perm(int64_t e) {
    auto it = perms_.find(e);
    if (it != perms_.end()) return it->second;
    std::vector<int64_t> p(static_cast<size_t>(n_));
    std::iota(p.begin(), p.end(), 0);
    util::Rng::stream(seed_, "train/order", static_cast<uint64_t>(e)).shuffle(p);
    return perms_.emplace(e, std::move(p)).first->second;
  }
  uint64_t seed_;
  int64_t n_, per_step_, steps_per_epoch_;
  std::map<int64_t, std::vector<int64_t>> perms_;
};

// OpenBLAS (the BLAS of Debian's libtorch) keeps its own thread pool, sized to the cores, which
// at::set_num_threads does not reach: with `threads = 1` the GEMMs of a step still ran on two
// threads, the second one spinning in sched_yield between the small GEMMs of a small model. A run
// sizes that pool to its torch thread count and restores it afterwards. No-op with another BLAS.
class BlasThreads {
 public:
  explicit BlasThreads(int n) {
    set_ = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (!set_ || !get) {
      set_ = nullptr;
      return;
    }
    before_ = get();
    if (before_ != n) set_(n);
  }
  ~BlasThreads() {
    if (set_) set_(before_);
  }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;

 private:
  void (*set_)(int) = nullptr;
  int before_ = 0;
};

}  // namespace

TrainResult run_training(const TrainOptions& o, Objective& obj) {
  model::configure_threads(o.threads);
  const BlasThreads blas_threads(at::get_num_threads());
  util::keep_freed_heap();
  const int64_t n = obj.size();
  validate(o, n);
  fs::create_directories(o.out_dir);
  CausalLM m(o.model_dir, lm_options(o));
  std::vector<torch::Tensor> params = m.trainable();
  TrainResult res;
  for (auto& [name, t] : m.named_parameters()) {
    res.total_params += t.numel();
    if (t.requires_grad()) res.trainable_params += t.numel();
  }
  FlatAdamW opt(params, {.beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps, .weight_decay = o.weight_decay});
  const int64_t per_step = o.batch_size * o.grad_accum;
  DataOrder order(o.seed, n, per_step);
  const int64_t total = o.steps > 0 ? o.steps : o.epochs * order.steps_per_epoch();
  res.total_steps = total;
  const auto fp = run_fingerprint(o, obj, total);
  const bool dpo = obj.fingerprint().rfind("dpo", 0) == 0;

  int64_t start = 0;
  if (o.resume) {
    if (auto st = load_checkpoint(o.out_dir, m, opt, fp)) {
      start = st->step;
      res.steps = read_metrics(o.out_dir / "metrics.jsonl", start);
      if (static_cast<int64_t>(res.steps.size()) != start) {
        throw util::Error("metrics.jsonl has " + std::to_string(res.steps.size()) +
                              " steps, the checkpoint " + std::to_string(start),
                          {.file = (o.out_dir / "metrics.jsonl").string()});
      }
    }
  }
  obj.prepare(o);
  m.set_training(true);

  int64_t s = start;
  for (; s < total; ++s) {
    if (o.stop_after > 0 && s >= o.stop_after) break;
    const auto t0 = std::chrono::steady_clock::now();
    const double lr = o.lr * cosine_with_warmup(s, o.warmup_steps, total);
    opt.zero_grad();
    const std::vector<int64_t> idx = order.step(s);
    const double denom = obj.denominator(idx);
    StepAccum acc;
    for (int64_t mb = 0; mb < o.grad_accum; ++mb) {
      // LoRA dropout masks depend only on (seed, step, micro-batch): resume reproduces them.
      torch::manual_seed(
          util::Rng::stream(o.seed, "train/dropout", static_cast<uint64_t>(s * o.grad_accum + mb))
              .next_u64());
      std::vector<int64_t> part(idx.begin() + mb * o.batch_size, idx.begin() + (mb + 1) * o.batch_size);
      obj.micro_batch(m, part, denom, acc);
    }
    const double max_norm = o.max_grad_norm > 0 ? o.max_grad_norm : std::numeric_limits<double>::infinity();
    const double gnorm = opt.clip_grad_norm(max_norm);
    opt.step(lr);
    StepMetrics sm;
    sm.step = s + 1;
    sm.lr = lr;
    sm.loss = acc.loss;
    sm.grad_norm = gnorm;
    sm.tokens = acc.tokens;
    sm.target_tokens = acc.target_tokens;
    sm.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (acc.pairs > 0) {
      const double p = static_cast<double>(acc.pairs);
      sm.chosen_reward = acc.chosen_reward / p;
      sm.rejected_reward = acc.rejected_reward / p;
      sm.margin = acc.margin / p;
      sm.accuracy = acc.accuracy / p;
    }
    res.steps.push_back(sm);
    if (o.progress) {
      std::fprintf(stderr, "\rstep %lld/%lld loss %.4f lr %.3g grad %.3g %.0f tok/s   ",
                   static_cast<long long>(s + 1), static_cast<long long>(total), sm.loss, lr, gnorm,
                   static_cast<double>(sm.tokens) / std::max(1e-9, sm.seconds));
    }
    if (o.checkpoint_every > 0 && (s + 1) % o.checkpoint_every == 0 && s + 1 < total) {
      save_checkpoint(o.out_dir, m, opt, {s + 1, fp});
      write_metrics(o.out_dir / "metrics.jsonl", res.steps, dpo);
    }
  }
  if (o.progress) std::fprintf(stderr, "\n");
  res.finished = s >= total;
  save_checkpoint(o.out_dir, m, opt, {s, fp});
  write_metrics(o.out_dir / "metrics.jsonl", res.steps, dpo);
  if (res.finished && o.export_model) {
    res.model_out = o.out_dir / "model";
    export_hf(m, o.model_dir, res.model_out, o.export_dtype);
  }
  if (o.plot) res.plot_note = plot_loss(o.out_dir / "metrics.jsonl", o.out_dir / "loss.png", dpo);
  return res;
}

}  // namespace um::train::detail
