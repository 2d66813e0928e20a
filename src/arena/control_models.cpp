// The control simulators of the arena (choice_model.h): trivial choice models on the same pages.
#include <cmath>

#include "arena/choice_model.h"
#include "pipeline/evaluate_report.h"
#include "scene/dataset_index.h"
#include "scene/exposure/collaborative_embedding.h"
#include "util/error.h"

namespace um::arena {
namespace {

std::vector<double> normalised(std::vector<double> w) {
  double sum = 0;
  for (double v : w) sum += v;
  if (!(sum > 0)) return std::vector<double>(w.size(), 1.0 / static_cast<double>(w.size()));
  for (double& v : w) v /= sum;
  return w;
}

// Shared shape of the controls: a weight per page position from a per-page rule.
class RuleModel : public ChoiceModel {
 public:
  explicit RuleModel(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  bool needs_text() const override { return false; }
  std::vector<std::vector<double>> choose(const std::vector<const PageScene*>& pages) override {
    std::vector<std::vector<double>> out;
    out.reserve(pages.size());
    for (const PageScene* p : pages) out.push_back(normalised(weights(*p)));
    return out;
  }

 protected:
  virtual std::vector<double> weights(const PageScene& page) const = 0;

 private:
  std::string name_;
};

class Uniform final : public RuleModel {
 public:
  using RuleModel::RuleModel;
  std::vector<double> weights(const PageScene& p) const override {
    return std::vector<double>(p.items.size(), 1.0);
  }
};

class Position final : public RuleModel {
 public:
  using RuleModel::RuleModel;
  std::vector<double> weights(const PageScene& p) const override {
    std::vector<double> w;
    for (size_t k = 0; k < p.items.size(); ++k) w.push_back(1.0 / std::log2(static_cast<double>(k) + 2.0));
    return w;
  }
};

class Popularity final : public RuleModel {
 public:
  Popularity(std::string name, const recommend::Split& split)
      : RuleModel(std::move(name)), count_(split.num_items, 0) {
    for (const auto& events : split.train)
      for (const auto& e : events) ++count_[e.item];
  }
  std::vector<double> weights(const PageScene& p) const override {
    std::vector<double> w;
    for (uint32_t item : p.items) w.push_back(1.0 + static_cast<double>(count_[item]));
    return w;
  }

 private:
  std::vector<int64_t> count_;
};

class Collaborative final : public RuleModel {
 public:
  Collaborative(std::string name, const ControlContext& c) : RuleModel(std::move(name)) {
    // The dataset restricted to the train interactions (same user and item rows).
    data::Dataset train;
    train.name = c.dataset.name;
    train.users = c.dataset.users;
    train.items = c.dataset.items;
    for (size_t u = 0; u < c.split.train.size(); ++u)
      for (const auto& e : c.split.train[u])
        train.interactions.push_back({c.dataset.users[u].id, c.dataset.items[e.item].id, e.t_us, "{}"});
    scene::DatasetIndex index(train);
    e_ = scene::collaborative_embedding(index, {.seed = c.seed, .threads = c.threads});
    iid_.resize(c.dataset.items.size(), -1);
    for (size_t i = 0; i < iid_.size(); ++i) iid_[i] = index.item_iid(static_cast<uint32_t>(i));
  }
  std::vector<double> weights(const PageScene& p) const override {
    const size_t d = e_.cols;
    std::vector<double> query(d, 0.0);
    bool any = false;
    for (uint32_t h : p.history) {
      if (iid_[h] < 0) continue;
      const float* row = e_.data.data() + static_cast<size_t>(iid_[h]) * d;
      for (size_t j = 0; j < d; ++j) query[j] += row[j];
      any = true;
    }
    if (!any) return std::vector<double>(p.items.size(), 1.0);
    std::vector<double> scores;
    for (uint32_t item : p.items) {
      double s = 0;
      if (iid_[item] >= 0) {
        const float* row = e_.data.data() + static_cast<size_t>(iid_[item]) * d;
        for (size_t j = 0; j < d; ++j) s += query[j] * row[j];
      }
      scores.push_back(s);
    }
    return pipeline::zscore_softmax_weights(scores);
  }

 private:
  scene::Matrix2D e_;
  std::vector<int32_t> iid_;
};

}  // namespace

bool is_control(const std::string& spec) { return spec.rfind("baseline:", 0) == 0; }

std::unique_ptr<ChoiceModel> make_control(const std::string& spec, const ControlContext& context) {
  if (spec == "baseline:uniform") return std::make_unique<Uniform>(spec);
  if (spec == "baseline:position") return std::make_unique<Position>(spec);
  if (spec == "baseline:popularity") return std::make_unique<Popularity>(spec, context.split);
  if (spec == "baseline:collaborative") return std::make_unique<Collaborative>(spec, context);
  throw util::Error(
      "unknown control simulator '" + spec +
          "' (baseline:uniform, baseline:position, baseline:popularity, baseline:collaborative)",
      {.field = "simulator"});
}

}  // namespace um::arena
