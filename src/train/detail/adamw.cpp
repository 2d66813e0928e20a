#include "train/detail/adamw.h"

#include <c10/util/strides.h>

#include <cmath>
#include <set>
#include <string>

#include "train/detail/tensor_file.h"
#include "util/error.h"

namespace um::train::detail {

namespace {

// Each tensor starts on a 64-byte boundary of the flat buffer (16 f32 / 8 f64 elements); the gaps
// stay zero in the values, gradients and moments, so they never change.
int64_t padded(int64_t n, int64_t elem) {
  const int64_t a = std::max<int64_t>(1, 64 / elem);
  return (n + a - 1) / a * a;
}

}  // namespace

FlatAdamW::FlatAdamW(std::vector<torch::Tensor> params, const AdamWHyper& h)
    : params_(std::move(params)), h_(h) {
  torch::TensorOptions opts = torch::TensorOptions().dtype(torch::kFloat);
  std::set<const void*> storages;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& p = params_[i];
    const std::string what = "trainable tensor " + std::to_string(i);
    if (!p.defined() || !p.requires_grad() || !p.is_leaf() || !p.is_floating_point() || p.is_sparse())
      throw util::Error(what + " is not a dense floating-point leaf that requires grad", {.field = "params"});
    if (i == 0) opts = torch::TensorOptions().dtype(p.scalar_type()).device(p.device());
    if (p.scalar_type() != params_[0].scalar_type() || p.device() != params_[0].device())
      throw util::Error(what + " differs in dtype or device from the first", {.field = "params"});
    if (!storages.insert(p.storage().unsafeGetStorageImpl()).second)
      throw util::Error(what + " shares its storage with another trainable tensor", {.field = "params"});
  }
  const int64_t elem = static_cast<int64_t>(c10::elementSize(c10::typeMetaToScalarType(opts.dtype())));
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (const auto& p : params_) {
    offsets.push_back(total);
    total += padded(p.numel(), elem);
  }
  torch::NoGradGuard ng;
  flat_ = torch::zeros({total}, opts);
  grad_ = torch::zeros({total}, opts);
  exp_avg_ = torch::zeros({total}, opts);
  exp_avg_sq_ = torch::zeros({total}, opts);
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const int64_t off = offsets[i], n = p.numel();
    flat_.narrow(0, off, n).copy_(p.reshape({-1}));
    p.set_(flat_.storage(), off, p.sizes(), c10::contiguous_strides(p.sizes()));
    grad_views_.push_back(grad_.narrow(0, off, n).view(p.sizes()));
    p.mutable_grad() = grad_views_.back();
  }
}

void FlatAdamW::zero_grad() {
  torch::NoGradGuard ng;
  grad_.zero_();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].grad().unsafeGetTensorImpl() != grad_views_[i].unsafeGetTensorImpl())
      params_[i].mutable_grad() = grad_views_[i];
  }
}

void FlatAdamW::gather_grads() {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor g = params_[i].grad();
    if (g.unsafeGetTensorImpl() == grad_views_[i].unsafeGetTensorImpl()) continue;
    if (g.defined()) {
      grad_views_[i].copy_(g);
    } else {
      grad_views_[i].zero_();
    }
    params_[i].mutable_grad() = grad_views_[i];
  }
}

double FlatAdamW::clip_grad_norm(double max_norm) {
  gather_grads();
  torch::NoGradGuard ng;
  const double norm = grad_.numel() == 0 ? 0.0 : grad_.norm().item<double>();
  if (std::isfinite(max_norm)) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1) grad_.mul_(coef);
  }
  return norm;
}

void FlatAdamW::step(double lr) {
  gather_grads();
  torch::NoGradGuard ng;
  ++step_;
  const double b1 = h_.beta1, b2 = h_.beta2;
  if (h_.weight_decay != 0) flat_.mul_(1 - lr * h_.weight_decay);
  exp_avg_.mul_(b1).add_(grad_, 1 - b1);
  exp_avg_sq_.mul_(b2).addcmul_(grad_, grad_, 1 - b2);
  const double bc1 = 1 - std::pow(b1, static_cast<double>(step_));
  const double bc2 = 1 - std::pow(b2, static_cast<double>(step_));
  torch::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bc2)).add_(h_.eps);
  flat_.addcdiv_(exp_avg_, denom, -lr / bc1);
}

void FlatAdamW::save(const std::filesystem::path& file) const {
  std::vector<torch::Tensor> state = {torch::tensor({step_}, torch::kLong), exp_avg_, exp_avg_sq_};
  save_tensors(state, file);
}

void FlatAdamW::load(const std::filesystem::path& file) {
  std::vector<torch::Tensor> state;
  try {
    torch::load(state, file.string());
  } catch (const c10::Error& e) {
    throw util::Error(std::string("unreadable optimizer state: ") + e.what_without_backtrace(),
                      {.file = file.string()});
  }
  if (state.size() != 3 || state[0].numel() != 1 || !state[1].sizes().equals(exp_avg_.sizes()) ||
      !state[2].sizes().equals(exp_avg_sq_.sizes()) || state[1].scalar_type() != exp_avg_.scalar_type()) {
    throw util::Error("optimizer state does not fit the trainable tensors", {.file = file.string()});
  }
  torch::NoGradGuard ng;
  step_ = state[0].item<int64_t>();
  exp_avg_.copy_(state[1]);
  exp_avg_sq_.copy_(state[2]);
}

}  // namespace um::train::detail
