// bpr: BPR-MF (Rendle et al. 2009) with item biases, trained by plain SGD on the train part:
// each epoch draws |train pairs| x neg triples (u, i, j) — a (user, item) train pair uniformly, j a
// uniformly drawn train item the user has not interacted with — and ascends ln σ(x_uij) with
//   x_uij = b_i − b_j + <U_u, V_i − V_j>,  L2 regularisation reg on every updated parameter.
// Single-threaded on purpose: Hogwild would make the model depend on scheduling. Every draw comes
// from util::Rng streams (seed, "recommend/bpr/init" | "recommend/bpr/epoch", epoch).
// Scoring: score(j) = <U_u, V_j> + b_j with the user's trained factor (a query history beyond the
// user's train items only excludes items, it does not move the factor); a user without train
// interactions has no trained factor and is scored by the item bias alone (a learned popularity).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "recommend/detail.h"
#include "util/progress.h"
#include "util/rng.h"

namespace um::recommend::detail {
namespace {

struct BprParams {
  size_t factors = 64;
  int epochs = 20;
  double lr = 0.05, reg = 0.0025;
  int neg = 1;
};

using Vec = Eigen::Map<Eigen::VectorXf>;
using CVec = Eigen::Map<const Eigen::VectorXf>;

double normal(util::Rng& rng) {  // Box–Muller
  double u1 = 1.0 - rng.uniform01(), u2 = rng.uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

class BprRecommender final : public Recommender {
 public:
  BprRecommender(std::string name, const Split& split, const BprParams& p, const RecommenderOptions& o)
      : Recommender(std::move(name), o.threads), split_(split), f_(p.factors) {
    TrainMatrix m = train_matrix(split);
    has_train_.assign(split.num_users, 0);
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    pairs.reserve(static_cast<size_t>(m.pairs));
    for (size_t u = 0; u < split.num_users; ++u) {
      has_train_[u] = !m.items_of_user[u].empty();
      for (uint32_t i : m.items_of_user[u]) pairs.emplace_back(static_cast<uint32_t>(u), i);
    }
    user_.resize(split.num_users * f_);
    item_.resize(split.num_items * f_);
    bias_.assign(split.num_items, 0.0f);
    util::Rng init = util::Rng::stream(o.seed, "recommend/bpr/init", 0);
    for (float& x : user_) x = static_cast<float>(0.1 * normal(init));
    for (float& x : item_) x = static_cast<float>(0.1 * normal(init));

    const auto& cand = split.train_items;
    const float lr = static_cast<float>(p.lr), reg = static_cast<float>(p.reg);
    Eigen::VectorXf du(static_cast<Eigen::Index>(f_)), uf(static_cast<Eigen::Index>(f_));
    std::unique_ptr<util::Progress> bar;
    if (o.progress) bar = std::make_unique<util::Progress>("bpr", static_cast<uint64_t>(p.epochs), "epochs");
    for (int epoch = 0; epoch < p.epochs && !pairs.empty(); ++epoch) {
      util::Rng rng = util::Rng::stream(o.seed, "recommend/bpr/epoch", static_cast<uint64_t>(epoch));
      const size_t draws = pairs.size() * static_cast<size_t>(p.neg);
      for (size_t s = 0; s < draws; ++s) {
        auto [u, i] = pairs[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(pairs.size()) - 1))];
        const auto& pos = m.items_of_user[u];
        if (pos.size() >= cand.size()) continue;  // the user has every train item: no negative
        uint32_t j;
        do {
          j = cand[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(cand.size()) - 1))];
        } while (std::binary_search(pos.begin(), pos.end(), j));
        // Eigen maps: explicitly vectorised, with a fixed association order (deterministic).
        Vec pu(&user_[u * f_], static_cast<Eigen::Index>(f_));
        Vec vi(&item_[i * f_], static_cast<Eigen::Index>(f_));
        Vec vj(&item_[j * f_], static_cast<Eigen::Index>(f_));
        du = vi - vj;
        const float x = bias_[i] - bias_[j] + pu.dot(du);
        const float g = 1.0f / (1.0f + std::exp(x));  // σ(−x) = d ln σ(x) / dx
        uf = pu;
        pu += lr * (g * du - reg * pu);
        vi += lr * (g * uf - reg * vi);
        vj += lr * (-g * uf - reg * vj);
        bias_[i] += lr * (g - reg * bias_[i]);
        bias_[j] += lr * (-g - reg * bias_[j]);
      }
      if (bar) bar->add(1);
    }
    if (bar) bar->finish();
  }

  Recommendation recommend(const Query& q) const override {
    std::vector<char> mask = history_mask(split_, q);
    std::vector<double> score(split_.num_items, 0.0);
    const bool trained = has_train_[q.user];
    const auto n = static_cast<Eigen::Index>(f_);
    for (uint32_t j : split_.train_items) {
      float s = bias_[j];
      if (trained) s += CVec(&user_[q.user * f_], n).dot(CVec(&item_[j * f_], n));
      score[j] = s;
    }
    return {.items = top_k(split_, score, mask, q.k)};
  }

 private:
  const Split& split_;
  size_t f_;
  std::vector<float> user_, item_, bias_;
  std::vector<char> has_train_;
};

}  // namespace

std::unique_ptr<Recommender> make_bpr(const std::string& spec, std::string_view, Options& opts,
                                      const Split& split, const RecommenderOptions& options) {
  BprParams p;
  p.factors = static_cast<size_t>(opts.integer("factors", 64, 1, 4096));
  p.epochs = static_cast<int>(opts.integer("epochs", 20, 0, 100000));
  p.lr = opts.number("lr", 0.05, 0, 100);
  p.reg = opts.number("reg", 0.0025, 0, 100);
  p.neg = static_cast<int>(opts.integer("neg", 1, 1, 1000));
  opts.finish();
  return std::make_unique<BprRecommender>(spec, split, p, options);
}

}  // namespace um::recommend::detail
