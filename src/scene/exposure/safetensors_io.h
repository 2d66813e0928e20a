#pragma once
// Minimal safetensors reading/writing for the reference's embedding caches (docs/method.md §1.2, §4.4):
// one 2-D tensor per file under a known key, plus string metadata. Read tensors are converted to
// float32 (F32, F64, F16 and BF16 are accepted). The header is parsed and checked by
// util::parse_safetensors_header (util/safetensors_header.h), the model's weights reader's too.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace um::scene {

struct Matrix2D {
  size_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major rows × cols
  std::map<std::string, std::string> metadata;
};

// Throws util::Error (file, field = key) on a malformed file or a missing / non-2-D tensor.
Matrix2D read_safetensors_matrix(const std::filesystem::path& path, const std::string& key);
// Written atomically.
void write_safetensors_matrix(const std::filesystem::path& path, const std::string& key, const Matrix2D& m);

}  // namespace um::scene
