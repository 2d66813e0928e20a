// AVX-512 BF16 kernel for y = x · Wᵀ with few rows of x. Each tile keeps R weight rows × MT rows of x
// as R·MT f32 accumulators; VDPBF16PS multiplies 32 bf16 pairs per instruction. Weight rows are read
// in order (the [N, K] tensor is contiguous, so a block of rows is one sequential stream) and the
// x tiles for a row block are served from L1, so W is read from memory exactly once per call.
#include "model/detail/small_batch_linear.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace um::model::detail {

namespace {

#define UM_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

constexpr int kMaxTileRows = 6;  // MT: x rows per tile (R · MT accumulators + R + 1 ≤ 32 registers)
constexpr int64_t kRowsPerTask = 64;

// f32 → bf16, round to nearest even (NaN kept quiet), as c10::BFloat16 and oneDNN round.
inline uint16_t to_bf16(float f) { return c10::BFloat16(f).x; }

using TileFn = void (*)(const uint16_t* x, const uint16_t* w, int64_t K, uint16_t* y, int64_t ldy);

// GCC 12's _mm512_reduce_add_ps starts from an intentionally undefined register (avx512fintrin.h),
// which -Wuninitialized reports inside every caller.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// One 32-element step of every accumulator. Masked = the last step of a K that is not a multiple of
// 32 (loads zeros past the end); plain loads everywhere else, as masked loads are slower on some cores.
template <int R, int MT, bool Masked>
UM_BF16_TARGET __attribute__((always_inline)) inline void step(__m512 (&acc)[R][MT], const uint16_t* x,
                                                               const uint16_t* w, int64_t K, int64_t k,
                                                               __mmask32 mask) {
  __m512i wv[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    // The same columns of the next block of R rows: the compute of this block hides that fetch.
    _mm_prefetch(reinterpret_cast<const char*>(w + (R + r) * K + k), _MM_HINT_T0);
    wv[r] = Masked ? _mm512_maskz_loadu_epi16(mask, w + r * K + k) : _mm512_loadu_si512(w + r * K + k);
  }
#pragma GCC unroll 8
  for (int m = 0; m < MT; ++m) {
    const __m512i xv =
        Masked ? _mm512_maskz_loadu_epi16(mask, x + m * K + k) : _mm512_loadu_si512(x + m * K + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], (__m512bh)wv[r], (__m512bh)xv);
  }
}

// y[m·ldy + r] = Σ_k x[m·K + k] · w[r·K + k] for r < R, m < MT.
template <int R, int MT>
UM_BF16_TARGET void tile(const uint16_t* x, const uint16_t* w, int64_t K, uint16_t* y, int64_t ldy) {
  __m512 acc[R][MT];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int m = 0; m < MT; ++m) acc[r][m] = _mm512_setzero_ps();
  }
  const int64_t full = K / 32 * 32;
  for (int64_t k = 0; k < full; k += 32) step<R, MT, false>(acc, x, w, K, k, 0);
  if (full < K)
    step<R, MT, true>(acc, x, w, K, full, static_cast<__mmask32>((uint64_t{1} << (K - full)) - 1));
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int m = 0; m < MT; ++m) y[m * ldy + r] = to_bf16(_mm512_reduce_add_ps(acc[r][m]));
  }
}

#pragma GCC diagnostic pop

template <int R, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tiles_for(std::index_sequence<I...>) {
  return {&tile<R, static_cast<int>(I) + 1>...};
}

// kTiles[i][MT - 1] is the tile with R = kRows[i].
constexpr std::array<int, 4> kRows = {8, 4, 2, 1};
const std::array<std::array<TileFn, kMaxTileRows>, 4> kTiles = {
    tiles_for<8>(std::make_index_sequence<kMaxTileRows>{}),
    tiles_for<4>(std::make_index_sequence<kMaxTileRows>{}),
    tiles_for<2>(std::make_index_sequence<kMaxTileRows>{}),
    tiles_for<1>(std::make_index_sequence<kMaxTileRows>{})};

// Weight rows per tile for M rows of x: 8 when the tile is memory-bound (one x row), else 4.
int rows_index(int64_t M) { return M == 1 ? 0 : 1; }

bool detect() {
  if (decode_kernels_disabled()) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512bf16");
}

}  // namespace

// The x rows are cut into balanced tiles of at most kMaxTileRows (10 rows = 5 + 5, not 6 + 4); each
// weight block is reused from L1 by every tile.
void small_batch_rows(const uint16_t* x, int64_t M, int64_t K, const uint16_t* w, uint16_t* y, int64_t N,
                      int64_t n0, int64_t n1) {
  const int64_t ntiles = (M + kMaxTileRows - 1) / kMaxTileRows;
  int ri = rows_index(M);
  for (int64_t n = n0; n < n1;) {
    while (n + kRows[static_cast<size_t>(ri)] > n1) ++ri;  // tail: narrower tiles, down to one row
    const int R = kRows[static_cast<size_t>(ri)];
    for (int64_t t = 0, m0 = 0; t < ntiles; ++t) {
      const int64_t mt = (M - m0) / (ntiles - t);
      kTiles[static_cast<size_t>(ri)][static_cast<size_t>(mt - 1)](x + m0 * K, w + n * K, K, y + m0 * N + n,
                                                                   N);
      m0 += mt;
    }
    n += R;
  }
}

bool decode_kernels_disabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("UM_NO_DECODE_KERNELS");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
  }();
  return disabled;
}

bool small_batch_kernel_available() {
  static const bool available = detect();
  return available;
}

bool small_batch_qualifies(const at::Tensor& x, const at::Tensor& w) {
  return x.dim() == 2 && w.dim() == 2 && x.size(0) >= 1 && x.size(0) <= kSmallBatchMaxRows &&
         x.size(1) == w.size(1) && x.scalar_type() == at::kBFloat16 && w.scalar_type() == at::kBFloat16 &&
         x.device().is_cpu() && w.device().is_cpu() && x.is_contiguous() && w.is_contiguous();
}

void small_batch_linear(const at::Tensor& x, const std::vector<SmallBatchOutput>& outs) {
  const int64_t M = x.size(0), K = x.size(1);
  const auto* xp = reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>());
  // Tasks of kRowsPerTask weight rows over all outputs, split evenly across the threads.
  struct Task {
    size_t out;
    int64_t n0, n1;
  };
  std::vector<Task> tasks;
  for (size_t o = 0; o < outs.size(); ++o) {
    const int64_t N = outs[o].w->size(0);
    for (int64_t n = 0; n < N; n += kRowsPerTask) tasks.push_back({o, n, std::min(N, n + kRowsPerTask)});
  }
  at::parallel_for(0, static_cast<int64_t>(tasks.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const Task& task = tasks[static_cast<size_t>(t)];
      const SmallBatchOutput& o = outs[task.out];
      small_batch_rows(xp, M, K, reinterpret_cast<const uint16_t*>(o.w->data_ptr<at::BFloat16>()),
                       reinterpret_cast<uint16_t*>(o.y->data_ptr<at::BFloat16>()), o.w->size(0), task.n0,
                       task.n1);
    }
  });
}

}  // namespace um::model::detail
