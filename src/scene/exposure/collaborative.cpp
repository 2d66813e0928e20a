// Collaborative scorer (docs/method.md §4.3): s = r_u · E · Eᵀ over the iid space. The query row r_u
// holds only the user's interactions strictly before the target (reference: the whole row, future
// items and the ground truth included, §11.3; kept as an option). With --compat reference the scores
// go through the reference's float32 softmax before top-k (docs/reference-differences.md).
#include <Eigen/Dense>

#include "scene/exposure/collaborative_embedding.h"
#include "scene/exposure/scorer.h"

namespace um::scene::scorers {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Collaborative final : public Scorer {
 public:
  explicit Collaborative(const ScorerContext& ctx)
      : index_(ctx.index),
        full_(ctx.collaborative_full_history),
        softmax_(ctx.compat == data::Compat::reference) {
    CollaborativeParams p;
    p.seed = ctx.seed;
    p.threads = ctx.threads;
    Matrix2D m = cached_collaborative_embedding(ctx.index, p, ctx.work);
    e_ = Eigen::Map<const RowMat>(m.data.data(), static_cast<Eigen::Index>(m.rows),
                                  static_cast<Eigen::Index>(m.cols));
  }
  std::string_view name() const override { return "collaborative"; }

  void top_k(const ScoreQuery& q, size_t k, util::Rng&, std::vector<uint32_t>& out) const override {
    if (e_.rows() == 0) return;
    auto tl = index_.timeline(q.user);
    size_t end = full_ ? tl.size() : q.history_end;
    if (end == 0) return;  // no evidence: the scorer contributes nothing
    Eigen::RowVectorXf query = Eigen::RowVectorXf::Zero(e_.cols());
    for (size_t i = 0; i < end; ++i) query += e_.row(index_.item_iid(index_.interaction_item(tl.begin()[i])));
    Eigen::VectorXf scores = e_ * query.transpose();
    if (softmax_) float32_softmax(scores.data(), static_cast<size_t>(scores.size()));
    std::vector<uint32_t> iids;
    top_k_indices(scores.data(), static_cast<size_t>(scores.size()), k, iids);
    for (uint32_t iid : iids) out.push_back(index_.iid_item(iid));
  }

 private:
  const DatasetIndex& index_;
  bool full_;
  bool softmax_;
  RowMat e_;
};

}  // namespace

std::unique_ptr<Scorer> collaborative(const ScorerContext& ctx) {
  return std::make_unique<Collaborative>(ctx);
}

}  // namespace um::scene::scorers
