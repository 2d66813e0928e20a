#include "model/bench_support.h"

#include <chrono>

#include "model/detail/model_impl.h"
#include "model/detail/small_batch_linear.h"
#include "util/error.h"

namespace um::model::bench {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

double gemm_gflops(DType dtype, int64_t n, int reps) {
  auto st = dtype == DType::BF16 ? at::kBFloat16 : at::kFloat;
  at::Tensor a = at::randn({n, n}).to(st), b = at::randn({n, n}).to(st);
  at::matmul(a, b);  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    at::Tensor c = at::matmul(a, b);
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * static_cast<double>(n) * n * n / best / 1e9;
}

double read_bandwidth_gbs(size_t bytes, int reps) {
  at::Tensor a = at::ones({static_cast<int64_t>(bytes / 4)}, at::kFloat);
  at::sum(a);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    at::Tensor s = at::sum(a);
    (void)s.item<float>();
    best = std::min(best, seconds_since(t0));
  }
  return static_cast<double>(bytes) / best / 1e9;
}

std::shared_ptr<const Model> load_stored_layout(const std::filesystem::path& dir, const LoadOptions& opts) {
  return load_model_with_layout(dir, opts, WeightLayout::Stored);
}

namespace {
double projection_params(const ModelConfig& c) {
  const double H = static_cast<double>(c.hidden_size), q = static_cast<double>(c.num_heads * c.head_dim),
               kv = static_cast<double>(c.num_kv_heads * c.head_dim),
               I = static_cast<double>(c.intermediate_size);
  return static_cast<double>(c.num_layers) * (H * (q + 2 * kv) + q * H + 3 * H * I);
}
}  // namespace

double weight_bytes_per_token(const Model& m) {
  const ModelConfig& c = m.config();
  const double el = m.dtype() == DType::BF16 ? 2.0 : 4.0;
  return el * (projection_params(c) + static_cast<double>(c.vocab_size) * static_cast<double>(c.hidden_size));
}

double matmul_flops_per_token(const Model& m, bool with_lm_head) {
  const ModelConfig& c = m.config();
  double p = projection_params(c);
  if (with_lm_head) p += static_cast<double>(c.vocab_size) * static_cast<double>(c.hidden_size);
  return 2.0 * p;
}

bool small_batch_kernel_available() { return detail::small_batch_kernel_available(); }

double small_batch_linear_seconds(int64_t M, int64_t N, int64_t K, Projection how, int reps) {
  if (how == Projection::Kernel && !detail::small_batch_kernel_available()) {
    throw util::NotSupported("the small-batch bf16 kernel needs AVX-512 BF16", {.field = "kernel"});
  }
  // Several weight copies, used in turn, so the working set (≥ 256 MiB) exceeds the caches.
  const int64_t copies = std::max<int64_t>(1, (int64_t{256} << 20) / (N * K * 2));
  std::vector<at::Tensor> ws;
  for (int64_t i = 0; i < copies; ++i) {
    at::Tensor w = at::randn({N, K}).to(at::kBFloat16);
    ws.push_back(how == Projection::MatmulTransposed ? w.t().contiguous() : w);  // [K, N] for matmul
  }
  at::Tensor x = at::randn({M, K}).to(at::kBFloat16);
  at::Tensor y = at::empty({M, N}, at::kBFloat16);
  double best = 1e30;
  for (int r = 0; r < reps + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (const at::Tensor& w : ws) {
      switch (how) {
        case Projection::Kernel:
          detail::small_batch_linear(x, {{&w, &y}});
          break;
        case Projection::Linear:
          y = at::linear(x, w);
          break;
        case Projection::MatmulTransposed:
          y = at::matmul(x, w);
          break;
      }
    }
    if (r > 0) best = std::min(best, seconds_since(t0) / static_cast<double>(copies));  // r = 0 warms up
  }
  return best;
}

}  // namespace um::model::bench
