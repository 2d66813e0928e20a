#pragma once
// AdamW over one flat buffer. The trainable tensors are re-pointed into one contiguous storage (their
// values kept, their TensorImpl unchanged, so the model's handles stay valid) and their gradients are
// views of a second one, so zeroing, the global gradient norm, clipping and the update are a handful
// of tensor operations per step instead of ~10 per parameter tensor (libtorch's
// torch::optim::AdamW also looks each parameter's state up by a string key).
//
// The update is torch::optim::AdamW's (libtorch 1.13, amsgrad off), element by element: decoupled
// weight decay p ← p·(1 − lr·wd) when wd ≠ 0, m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
// p ← p − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps). One difference: every parameter takes
// part in every step (a parameter that received no gradient has a zero one, as with Python's
// zero_grad(set_to_none=False)); torch::optim::AdamW skips a parameter whose .grad() is undefined.
// Internal to src/train (includes torch).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace um::train::detail {

struct AdamWHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

class FlatAdamW {
 public:
  // `params`: leaves that require grad, one floating dtype and device, no two sharing storage.
  // Throws util::Error otherwise. Their gradients start at zero.
  FlatAdamW(std::vector<torch::Tensor> params, const AdamWHyper& h);

  // Zeroes the flat gradient; every parameter's .grad() is (again) a view of it, so autograd
  // accumulates into it in place.
  void zero_grad();
  // L2 norm over all gradients (one reduction). When max_norm is finite and max_norm / (norm + 1e-6)
  // < 1 the gradients are scaled by that factor (torch.nn.utils.clip_grad_norm_). Returns the norm
  // before clipping.
  double clip_grad_norm(double max_norm);
  // One AdamW update at learning rate `lr`.
  void step(double lr);

  int64_t steps_done() const { return step_; }
  // The flat state (first and second moments, step count) through torch::save / torch::load. load
  // throws util::Error when the file does not fit these parameters.
  void save(const std::filesystem::path& file) const;
  void load(const std::filesystem::path& file);

 private:
  // Copies a gradient that autograd replaced instead of accumulating in place (e.g. when grad mode
  // was on during backward) back into the flat gradient.
  void gather_grads();

  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> grad_views_;
  torch::Tensor flat_, grad_, exp_avg_, exp_avg_sq_;
  AdamWHyper h_;
  int64_t step_ = 0;
};

}  // namespace um::train::detail
