// Supervised fine-tuning: cross-entropy on the assistant tokens (torchtune's train_on_input=False),
// normalised by the number of target tokens of the whole optimizer step.
#include "train/detail/trainer.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::train {

namespace detail {

uint64_t hash_examples(const std::vector<const TokenExample*>& data) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  for (const auto* e : data) {
    mix(e->ids.size());
    for (size_t i = 0; i < e->ids.size(); ++i)
      mix(static_cast<uint64_t>(e->ids[i]) * 2 + (i < e->target.size() ? e->target[i] : 0));
  }
  return h;
}

int64_t count_targets(const TokenExample& e) {
  int64_t n = 0;
  for (size_t i = 1; i < e.target.size() && i < e.ids.size(); ++i) n += e.target[i] != 0;
  return n;
}

namespace {

class SftObjective : public Objective {
 public:
  explicit SftObjective(const std::vector<TokenExample>& data) : data_(data) {
    for (const auto& e : data_) targets_.push_back(count_targets(e));
  }
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  std::string fingerprint() const override {
    std::vector<const TokenExample*> all;
    for (const auto& e : data_) all.push_back(&e);
    return "sft:" + std::to_string(data_.size()) + ":" + std::to_string(hash_examples(all));
  }
  double denominator(const std::vector<int64_t>& idx) const override {
    int64_t n = 0;
    for (auto i : idx) n += targets_[static_cast<size_t>(i)];
    return static_cast<double>(std::max<int64_t>(1, n));
  }
  void micro_batch(CausalLM& m, const std::vector<int64_t>& idx, double denom, StepAccum& acc) override {
    std::vector<const TokenExample*> rows;
    for (auto i : idx) {
      rows.push_back(&data_[static_cast<size_t>(i)]);
      acc.tokens += static_cast<int64_t>(data_[static_cast<size_t>(i)].ids.size());
      acc.target_tokens += targets_[static_cast<size_t>(i)];
    }
    auto [ids, tgt] = collate(rows);
    torch::Tensor loss = -target_logprobs(m, ids, tgt).sum() / denom;
    loss.backward();
    acc.loss += loss.item<double>();
  }

 private:
  const std::vector<TokenExample>& data_;
  std::vector<int64_t> targets_;
};

}  // namespace
}  // namespace detail

TrainOptions sft_defaults() {
  TrainOptions o;
  o.lr = 2e-4;
  o.epochs = 1;
  // The reference's sft.yaml sets no weight_decay, so torch.optim.AdamW's default 0.01 applies
  // (docs/method.md §9).
  o.weight_decay = 0.01;
  return o;
}

TrainOptions dpo_defaults() {
  TrainOptions o;
  o.lr = 1e-5;
  o.epochs = 2;
  o.weight_decay = 0.05;
  return o;
}

TrainResult run_sft_tokens(const TrainOptions& o, const std::vector<TokenExample>& data) {
  detail::SftObjective obj(data);
  TrainResult r = detail::run_training(o, obj);
  r.data.examples = static_cast<int64_t>(data.size());
  for (const auto& e : data) r.data.target_tokens += detail::count_targets(e);
  return r;
}

TrainResult run_sft(const TrainOptions& o) {
  DataSummary summary;
  auto data = load_sft_data(o.data_path, o.model_dir, o.column, o.max_seq_len, &summary);
  TrainResult r = run_sft_tokens(o, data);
  r.data = summary;
  return r;
}

std::vector<double> sequence_logprobs(const std::filesystem::path& model_dir,
                                      const std::vector<TokenExample>& data) {
  detail::LmOptions lo;
  detail::CausalLM m(model_dir, lo);
  m.set_training(false);
  torch::NoGradGuard ng;
  std::vector<double> out;
  for (const auto& e : data) {
    auto [ids, tgt] = detail::collate({&e});
    out.push_back(detail::target_logprobs(m, ids, tgt).item<double>());
  }
  return out;
}

}  // namespace um::train
