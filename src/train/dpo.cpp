// Direct Preference Optimisation, sigmoid loss with label smoothing (torchtune DPOLoss / TRL "sigmoid"):
//   z = β · ((log π(c) − log π(r)) − (log π_ref(c) − log π_ref(r)))
//   loss = −(1 − ε) · log σ(z) − ε · log σ(−z)
// Log-probabilities are sums over the assistant tokens. The reference model's values are computed
// once before training and cached in out_dir/reference_logps.bin (keyed by data and reference model).
#include <fstream>

#include "train/detail/trainer.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/rng.h"

namespace um::train {

namespace detail {
namespace {

namespace fs = std::filesystem;

constexpr char kRefMagic[8] = {'U', 'M', 'D', 'P', 'O', 'R', 'F', '1'};

// Cache key: data hash, reference directory and its weights' size and modification time.
uint64_t reference_key(uint64_t data_hash, const fs::path& ref_dir, const std::string& dtype) {
  std::string k =
      std::to_string(data_hash) + "|" + fs::absolute(ref_dir).lexically_normal().string() + "|" + dtype;
  for (const auto& e : fs::directory_iterator(ref_dir)) {
    if (e.path().extension() == ".safetensors") {
      k += "|" + e.path().filename().string() + ":" + std::to_string(e.file_size()) + ":" +
           std::to_string(e.last_write_time().time_since_epoch().count());
    }
  }
  return util::hash64(k);
}

bool read_cache(const fs::path& p, uint64_t key, size_t n, std::vector<double>& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  char magic[8];
  uint64_t k = 0, count = 0;
  in.read(magic, 8);
  in.read(reinterpret_cast<char*>(&k), 8);
  in.read(reinterpret_cast<char*>(&count), 8);
  if (!in || std::memcmp(magic, kRefMagic, 8) != 0 || k != key || count != 2 * n) return false;
  out.resize(2 * n);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(double)));
  return static_cast<bool>(in);
}

// Through util::AtomicWriter: a failing write (full disk) is a util::Error naming the file and leaves
// no cache behind. (The std::ofstream it replaced checked the stream before close flushed it, so a
// short write went unnoticed and the truncated file was renamed into place.)
void write_cache(const fs::path& p, uint64_t key, const std::vector<double>& v) {
  std::string bytes(kRefMagic, 8);
  const uint64_t count = v.size();
  bytes.append(reinterpret_cast<const char*>(&key), 8);
  bytes.append(reinterpret_cast<const char*>(&count), 8);
  bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  util::write_file_atomic(p, bytes);
}

class DpoObjective : public Objective {
 public:
  DpoObjective(const std::vector<PrefExample>& data, const DpoOptions& d) : data_(data), d_(d) {
    std::vector<const TokenExample*> all;
    for (const auto& p : data_) {
      all.push_back(&p.chosen);
      all.push_back(&p.rejected);
    }
    data_hash_ = hash_examples(all);
    if (!(d_.beta > 0)) throw util::Error("DPO beta must be > 0", {.field = "beta"});
    if (!(d_.label_smoothing >= 0 && d_.label_smoothing < 0.5)) {
      throw util::Error("label smoothing must be in [0, 0.5)", {.field = "label_smoothing"});
    }
  }
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  std::string fingerprint() const override {
    return "dpo:" + std::to_string(data_.size()) + ":" + std::to_string(data_hash_) +
           ":beta=" + std::to_string(d_.beta) + ":ls=" + std::to_string(d_.label_smoothing) + ":ref=" +
           (d_.reference_dir.empty() ? std::string("model") : fs::absolute(d_.reference_dir).string());
  }
  void prepare(const TrainOptions& o) override {
    const fs::path ref_dir = d_.reference_dir.empty() ? o.model_dir : d_.reference_dir;
    const fs::path cache = o.out_dir / "reference_logps.bin";
    const uint64_t key = reference_key(data_hash_, ref_dir, o.compute_dtype);
    if (read_cache(cache, key, data_.size(), ref_)) return;
    LmOptions lo = lm_options(o);
    lo.lora = {};
    lo.activation_checkpointing = false;
    CausalLM ref(ref_dir, lo);
    ref.set_training(false);
    torch::NoGradGuard ng;
    ref_.assign(2 * data_.size(), 0.0);
    const size_t bs = static_cast<size_t>(std::max<int64_t>(1, o.batch_size));
    for (size_t i0 = 0; i0 < data_.size(); i0 += bs) {
      std::vector<int64_t> idx;
      for (size_t i = i0; i < std::min(data_.size(), i0 + bs); ++i) idx.push_back(static_cast<int64_t>(i));
      torch::Tensor lp = pair_logprobs(ref, idx).to(torch::kDouble).contiguous();
      const auto* p = lp.data_ptr<double>();
      for (size_t j = 0; j < idx.size(); ++j) {
        ref_[2 * static_cast<size_t>(idx[j])] = p[j];
        ref_[2 * static_cast<size_t>(idx[j]) + 1] = p[idx.size() + j];
      }
    }
    write_cache(cache, key, ref_);
  }
  double denominator(const std::vector<int64_t>& idx) const override {
    return static_cast<double>(idx.size());
  }
  void micro_batch(CausalLM& m, const std::vector<int64_t>& idx, double denom, StepAccum& acc) override {
    const auto B = static_cast<int64_t>(idx.size());
    torch::Tensor lp = pair_logprobs(m, idx);  // [2B]: chosen then rejected
    std::vector<double> rc, rr;
    for (auto i : idx) {
      rc.push_back(ref_[2 * static_cast<size_t>(i)]);
      rr.push_back(ref_[2 * static_cast<size_t>(i) + 1]);
      for (const auto* e : {&data_[static_cast<size_t>(i)].chosen, &data_[static_cast<size_t>(i)].rejected}) {
        acc.tokens += static_cast<int64_t>(e->ids.size());
        acc.target_tokens += count_targets(*e);
      }
    }
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor ref_c = torch::from_blob(rc.data(), {B}, opts).clone().to(lp.scalar_type());
    torch::Tensor ref_r = torch::from_blob(rr.data(), {B}, opts).clone().to(lp.scalar_type());
    torch::Tensor pc = lp.narrow(0, 0, B), pr = lp.narrow(0, B, B);
    torch::Tensor z = d_.beta * ((pc - pr) - (ref_c - ref_r));
    const double ls = d_.label_smoothing;
    torch::Tensor losses = -torch::log_sigmoid(z) * (1.0 - ls) - torch::log_sigmoid(-z) * ls;
    torch::Tensor loss = losses.sum() / denom;
    loss.backward();
    acc.loss += loss.item<double>();
    torch::Tensor chosen_r = (d_.beta * (pc - ref_c)).detach().to(torch::kDouble);
    torch::Tensor rejected_r = (d_.beta * (pr - ref_r)).detach().to(torch::kDouble);
    acc.chosen_reward += chosen_r.sum().item<double>();
    acc.rejected_reward += rejected_r.sum().item<double>();
    acc.margin += (chosen_r - rejected_r).sum().item<double>();
    acc.accuracy += (chosen_r > rejected_r).sum().item<int64_t>();
    acc.pairs += B;
  }

 private:
  // Chosen and rejected of the pairs `idx` in one padded batch: [2B] sums of target log-probs.
  torch::Tensor pair_logprobs(const CausalLM& m, const std::vector<int64_t>& idx) const {
    std::vector<const TokenExample*> rows;
    for (auto i : idx) rows.push_back(&data_[static_cast<size_t>(i)].chosen);
    for (auto i : idx) rows.push_back(&data_[static_cast<size_t>(i)].rejected);
    auto [ids, tgt] = collate(rows);
    return target_logprobs(m, ids, tgt);
  }

  const std::vector<PrefExample>& data_;
  DpoOptions d_;
  uint64_t data_hash_ = 0;
  std::vector<double> ref_;  // 2 per pair: chosen, rejected
};

}  // namespace
}  // namespace detail

TrainResult run_dpo_tokens(const TrainOptions& o, const DpoOptions& d, const std::vector<PrefExample>& data) {
  detail::DpoObjective obj(data, d);
  TrainResult r = detail::run_training(o, obj);
  r.data.examples = static_cast<int64_t>(data.size());
  for (const auto& p : data)
    r.data.target_tokens += detail::count_targets(p.chosen) + detail::count_targets(p.rejected);
  return r;
}

TrainResult run_dpo(const TrainOptions& o, const DpoOptions& d) {
  DataSummary summary;
  auto data = load_pref_data(o.data_path, o.model_dir, o.max_seq_len, &summary);
  TrainResult r = run_dpo_tokens(o, d, data);
  r.data = summary;
  return r;
}

}  // namespace um::train
