// Linear projections: the small-batch bf16 kernel for decode, libtorch's GEMM otherwise.
#include "model/detail/model_impl.h"
#include "model/detail/small_batch_linear.h"

namespace um::model {

std::vector<at::Tensor> Linear::project(const at::Tensor& x, const std::vector<const Linear*>& ls) {
  std::vector<at::Tensor> ys;
  ys.reserve(ls.size());
  bool small = detail::small_batch_kernel_available();
  for (const Linear* l : ls) small = small && !l->transposed && detail::small_batch_qualifies(x, l->w);
  if (small) {
    std::vector<detail::SmallBatchOutput> outs;
    outs.reserve(ls.size());
    for (const Linear* l : ls) ys.push_back(at::empty({x.size(0), l->w.size(0)}, x.options()));
    for (size_t i = 0; i < ls.size(); ++i) outs.push_back({&ls[i]->w, &ys[i]});
    detail::small_batch_linear(x, outs);
  } else {
    for (const Linear* l : ls) ys.push_back(l->transposed ? at::matmul(x, l->w) : at::linear(x, l->w));
  }
  for (size_t i = 0; i < ls.size(); ++i) {
    if (ls[i]->b.defined()) ys[i].add_(ls[i]->b);
  }
  return ys;
}

}  // namespace um::model
