// Which decode batches keep every row independent of the others (model::independent_decode_rows).
#include <cstdint>
#include <span>
#include <vector>

#include "model/detail/decode_step.h"
#include "model/detail/small_batch_linear.h"
#include "model/generate.h"

namespace um::model {

size_t independent_decode_rows(const Model& model) {
  const Model::Impl& m = model.impl();
  // The fused bf16 decode step computes each row on its own (decode_step.h); it is taken for 1 to
  // kSmallBatchMaxRows one-token segments, so the step alone and the step in a batch run the same code.
  static const int32_t token = 0;
  std::vector<detail::Segment> one(1);
  one[0].tokens = {&token, 1};
  if (!detail::fused_decode_applicable(m, one)) return 1;
  // The vocabulary projection after the layers: the same small-batch kernel for every row count.
  const at::Tensor row = at::zeros({1, m.config.hidden_size}, at::TensorOptions().dtype(m.scalar));
  if (m.lm_head.transposed || !detail::small_batch_qualifies(row, m.lm_head.w)) return 1;
  return static_cast<size_t>(detail::kSmallBatchMaxRows);
}

bool prefill_together_exact(const Model& model, std::span<const size_t> last_block_rows) {
  const size_t limit = independent_decode_rows(model);
  if (limit <= 1) return false;
  size_t total = 0;
  for (size_t r : last_block_rows) {
    if (r < 2) return false;
    total += r;
  }
  return total <= limit;
}

std::vector<size_t> prefill_runs(const Model& model, std::span<const size_t> last_block_rows) {
  std::vector<size_t> ends;
  for (size_t i = 0; i < last_block_rows.size();) {
    size_t j = i;
    while (j < last_block_rows.size() && prefill_together_exact(model, last_block_rows.subspan(i, j + 1 - i)))
      ++j;
    i = std::max(j, i + 1);
    ends.push_back(i);
  }
  return ends;
}

}  // namespace um::model
