// The `usermirror logits` operation (torch-free: only the public API).
#include <bit>

#include "model/model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace um::model {

Logits logits_for_ids(const std::filesystem::path& model_dir, std::span<const int32_t> ids,
                      bool all_positions, DType dtype) {
  if (ids.empty()) throw util::Error("at least one token id is required", {.field = "ids"});
  auto m = Model::load(model_dir, {.dtype = dtype});
  Session s(m, 0);
  return s.append(s.create(), ids, all_positions);
}

void write_logits_f32(const std::filesystem::path& path, const Logits& logits) {
  static_assert(std::endian::native == std::endian::little, "the logits file format is little-endian");
  util::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(logits.data.data()),
                                                 logits.data.size() * sizeof(float)));
}

}  // namespace um::model
