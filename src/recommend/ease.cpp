// ease: EASE^R (Steck 2019) in closed form on the binary user x item train matrix X over the train
// items: G = XᵀX + λI, P = G⁻¹, B = −P / diag(P) (column j divided by −P_jj), diag(B) = 0, and
//   score(j) = Σ_{h in history} B_hj = −(Σ_h P_hj) / P_jj      (j outside the history).
// History items that are not train items have a zero column in X and contribute nothing.
// The Gram matrix is built sparsely (integer counts, parallel over columns). The inverse of the
// symmetric positive definite G is the Cholesky route, LAPACK dpotrf + dpotri (half the flops of
// numpy.linalg.inv's LU route), or Eigen's LLT when the build found no LAPACK.
#include <Eigen/Dense>
#include <algorithm>

#include "recommend/detail.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/thread_pool.h"

#ifdef UM_RECOMMEND_LAPACK
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
}
#endif

namespace um::recommend::detail {
namespace {

constexpr size_t kMaxItems = 50000;  // the dense n x n inverse: 20 GB at this size

class EaseRecommender final : public Recommender {
 public:
  EaseRecommender(std::string name, const Split& split, double lambda, const RecommenderOptions& o)
      : Recommender(std::move(name), o.threads), split_(split), pos_(split.num_items, -1) {
    const auto& items = split.train_items;
    const size_t n = items.size();
    if (n > kMaxItems)
      throw util::Error("ease: " + std::to_string(n) + " train items; the dense inverse is limited to " +
                            std::to_string(kMaxItems),
                        {.field = "recommenders"});
    for (size_t a = 0; a < n; ++a) pos_[items[a]] = static_cast<int64_t>(a);
    TrainMatrix m = train_matrix(split);
    p_.setZero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    util::parallel_for(n, o.threads, [&](size_t b) {  // column b of XᵀX (exact integer counts)
      double* col = p_.col(static_cast<Eigen::Index>(b)).data();
      for (uint32_t u : m.users_of_item[items[b]])
        for (uint32_t i : m.items_of_user[u]) col[pos_[i]] += 1.0;
    });
    p_.diagonal().array() += lambda;
    invert(lambda);
    diag_ = p_.diagonal();
  }

  Recommendation recommend(const Query& q) const override {
    std::vector<char> mask = history_mask(split_, q);
    const auto n = p_.rows();
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(n);
    for (size_t h = 0; h < split_.num_items; ++h)  // ascending history rows; P is symmetric
      if (mask[h] && pos_[h] >= 0) sum += p_.col(pos_[h]);
    std::vector<double> score(split_.num_items, 0.0);
    for (Eigen::Index a = 0; a < n; ++a)
      score[split_.train_items[static_cast<size_t>(a)]] = -sum[a] / diag_[a];
    return {.items = top_k(split_, score, mask, q.k)};
  }

 private:
  void invert(double lambda) {
    const int n = static_cast<int>(p_.rows());
    if (n == 0) return;
#ifdef UM_RECOMMEND_LAPACK
    int info = 0;
    const char lower = 'L';
    dpotrf_(&lower, &n, p_.data(), &n, &info, 1);
    if (info == 0) dpotri_(&lower, &n, p_.data(), &n, &info, 1);
    if (info != 0)
      throw util::Error("ease: XᵀX + λI is not positive definite (LAPACK info " + std::to_string(info) +
                            ", lambda=" + std::to_string(lambda) + "); use lambda > 0",
                        {.field = "recommenders"});
    for (int j = 1; j < n; ++j)  // dpotri filled the lower triangle
      for (int i = 0; i < j; ++i) p_(i, j) = p_(j, i);
#else
    Eigen::LLT<Eigen::MatrixXd> llt(p_);
    if (llt.info() != Eigen::Success)
      throw util::Error(
          "ease: XᵀX + λI is not positive definite (lambda=" + std::to_string(lambda) + "); use lambda > 0",
          {.field = "recommenders"});
    p_ = llt.solve(Eigen::MatrixXd::Identity(n, n));
#endif
  }

  const Split& split_;
  std::vector<int64_t> pos_;  // item row -> train item index, -1 outside the train items
  Eigen::MatrixXd p_;         // P = (XᵀX + λI)⁻¹ over the train items
  Eigen::VectorXd diag_;
};

}  // namespace

std::unique_ptr<Recommender> make_ease(const std::string& spec, std::string_view, Options& opts,
                                       const Split& split, const RecommenderOptions& options) {
  double lambda = opts.number("lambda", 500, 0, 1e15);
  opts.finish();
  return std::make_unique<EaseRecommender>(spec, split, lambda, options);
}

}  // namespace um::recommend::detail
