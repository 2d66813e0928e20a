#include "scene/exposure/collaborative_embedding.h"

#include <Eigen/Dense>
#include <Eigen/Sparse>
#include <algorithm>
#include <cmath>

#include "util/rng.h"
#include "util/thread_pool.h"

namespace um::scene {

namespace {

using Dense = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
using Sparse = Eigen::SparseMatrix<double, Eigen::RowMajor, int64_t>;

using RowDense = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// out = A * X in independent blocks of rows of A. X is copied row-major first, so each nonzero a(i, j)
// reads one contiguous row of X (a column-major X scattered every nonzero over l cache lines). Each
// out(i, c) is 0 + Σ a(i, j)·x(j, c) in the row's stored order — the order Eigen's sparse × dense
// product uses — so results are identical for any thread count and to Eigen's own product.
void block_product(const Sparse& a, const Dense& x, Dense& out, unsigned threads) {
  const RowDense xr = x;
  RowDense o = RowDense::Zero(a.rows(), x.cols());
  constexpr Eigen::Index kRows = 256;
  const Eigen::Index blocks = (a.rows() + kRows - 1) / kRows;
  util::parallel_for(static_cast<size_t>(blocks), threads, [&](size_t b) {
    const Eigen::Index r0 = static_cast<Eigen::Index>(b) * kRows, r1 = std::min(a.rows(), r0 + kRows);
    for (Eigen::Index i = r0; i < r1; ++i) {
      auto oi = o.row(i);
      for (Sparse::InnerIterator it(a, i); it; ++it) oi.noalias() += it.value() * xr.row(it.col());
    }
  });
  out = o;
}

Dense orthonormal_basis(const Dense& y) {
  Eigen::HouseholderQR<Dense> qr(y);
  return qr.householderQ() * Dense::Identity(y.rows(), y.cols());
}

uint64_t interactions_fingerprint(const DatasetIndex& index) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
  };
  for (size_t k = 0; k < index.dataset().interactions.size(); ++k) {
    if (!index.valid(k)) continue;
    mix(index.interaction_user(k));
    mix(index.interaction_item(k));
  }
  mix(index.num_users());
  mix(index.num_items());
  return h;
}

}  // namespace

Matrix2D collaborative_embedding(const DatasetIndex& index, const CollaborativeParams& p) {
  const auto n_users = static_cast<Eigen::Index>(index.num_users());
  const auto n_iid = static_cast<Eigen::Index>(index.num_iids());
  const size_t n_inter = index.dataset().interactions.size();
  Matrix2D e;
  e.rows = static_cast<size_t>(n_iid);
  e.cols = static_cast<size_t>(std::min<Eigen::Index>(p.rank, n_iid));
  e.data.assign(e.rows * e.cols, 0.0f);
  if (n_iid == 0) return e;

  std::vector<double> du(static_cast<size_t>(n_users), 0.0), di(static_cast<size_t>(n_iid), 0.0);
  std::vector<Eigen::Triplet<double, int64_t>> trip;
  trip.reserve(n_inter);
  for (size_t k = 0; k < n_inter; ++k) {
    if (!index.valid(k)) continue;
    uint32_t u = index.interaction_user(k);
    int32_t i = index.item_iid(index.interaction_item(k));
    trip.emplace_back(u, i, 1.0);  // duplicates are summed by setFromTriplets
    du[u] += 1.0;
    di[static_cast<size_t>(i)] += 1.0;
  }
  for (auto& d : du) d = 1.0 / std::sqrt(std::max(d, 1.0));
  for (auto& d : di) d = std::max(d, 1.0);
  for (auto& t : trip) {
    t = Eigen::Triplet<double, int64_t>(
        t.row(), t.col(), du[static_cast<size_t>(t.row())] / std::sqrt(di[static_cast<size_t>(t.col())]));
  }
  Sparse r(n_users, n_iid);
  r.setFromTriplets(trip.begin(), trip.end());
  trip.clear();
  trip.shrink_to_fit();
  Sparse rt = r.transpose();

  const Eigen::Index l = std::min<Eigen::Index>(p.rank + p.oversample, n_iid);
  util::Rng rng = util::Rng::stream(p.seed, "scenes/collaborative-svd", 0);
  Dense omega(n_iid, l);
  for (Eigen::Index c = 0; c < l; ++c)
    for (Eigen::Index i = 0; i < n_iid; ++i) omega(i, c) = rng.uniform01() * 2.0 - 1.0;

  // Subspace iteration on G = R̃ᵀR̃: Q ← orth(G Q).
  Dense q = orthonormal_basis(omega), x, y;
  for (int it = 0; it <= p.power_iterations; ++it) {
    block_product(r, q, x, p.threads);
    block_product(rt, x, y, p.threads);
    q = orthonormal_basis(y);
  }
  // Rayleigh–Ritz: eigenvectors of QᵀGQ = (R̃Q)ᵀ(R̃Q), largest first.
  block_product(r, q, x, p.threads);
  Dense small = x.transpose() * x;
  Eigen::SelfAdjointEigenSolver<Dense> eig(small);
  Dense v = q * eig.eigenvectors().rowwise().reverse().leftCols(static_cast<Eigen::Index>(e.cols));
  for (Eigen::Index i = 0; i < n_iid; ++i) {
    double s = std::sqrt(di[static_cast<size_t>(i)]);
    for (Eigen::Index c = 0; c < static_cast<Eigen::Index>(e.cols); ++c) {
      e.data[static_cast<size_t>(i) * e.cols + static_cast<size_t>(c)] = static_cast<float>(s * v(i, c));
    }
  }
  return e;
}

Matrix2D cached_collaborative_embedding(const DatasetIndex& index, const CollaborativeParams& p,
                                        const std::filesystem::path& work, bool* from_cache) {
  if (from_cache) *from_cache = false;
  std::map<std::string, std::string> meta = {
      {"producer", "usermirror"},
      {"interactions_fingerprint", std::to_string(interactions_fingerprint(index))},
      {"rank", std::to_string(p.rank)},
      {"oversample", std::to_string(p.oversample)},
      {"power_iterations", std::to_string(p.power_iterations)},
      {"seed", std::to_string(p.seed)},
  };
  const std::string key = "item_collaborative_embedding";
  std::filesystem::path path;
  if (!work.empty()) {
    path = work / "embeddings" / (index.dataset().name + ".collaborative.safetensors");
    if (std::filesystem::exists(path)) {
      // A cache written by another producer (e.g. the reference, without metadata) or for other
      // data/parameters is recomputed: reusing it would make the output depend on history.
      try {
        Matrix2D m = read_safetensors_matrix(path, key);
        if (m.metadata == meta && m.rows == index.num_iids()) {
          if (from_cache) *from_cache = true;
          return m;
        }
      } catch (const std::exception&) {
      }
    }
  }
  Matrix2D e = collaborative_embedding(index, p);
  e.metadata = meta;
  if (!path.empty()) write_safetensors_matrix(path, key, e);
  return e;
}

}  // namespace um::scene
