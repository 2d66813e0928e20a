#pragma once
// Safetensors files (8-byte little-endian header length, JSON header, raw little-endian data), read
// through a read-only memory mapping so weights are never copied on load. Torch-free.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/mapped_file.h"

namespace um::model {

enum class StDType { F32, F16, BF16 };
size_t st_dtype_size(StDType d);
const char* st_dtype_name(StDType d);  // "F32" | "F16" | "BF16"

struct TensorView {
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // points into the mapping; valid while the owning file lives
  size_t nbytes = 0;
  int64_t numel() const;
};

// A memory-mapped safetensors file (util::MappedFile; its header parsed by util::parse_safetensors_header).
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the mapping's resident pages (they re-fault from the file if touched again); used after
  // the weights were copied into another layout so memory is not held twice.
  void release_resident_pages() const;

 private:
  std::filesystem::path path_;
  mutable util::MappedFile file_;  // mutable: release_resident_pages() changes residency only
  std::map<std::string, TensorView> tensors_;
};

// All tensors of a model directory: model.safetensors, or the shards listed by
// model.safetensors.index.json. Files stay mapped while this object lives.
class SafetensorsSet {
 public:
  explicit SafetensorsSet(const std::filesystem::path& model_dir);
  const TensorView* find(const std::string& name) const;
  const TensorView& at(const std::string& name) const;  // throws util::Error naming the tensor
  std::vector<std::string> names() const;
  void release_resident_pages() const;

 private:
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

// A tensor to write: bytes already in the target dtype, little-endian.
struct TensorData {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

struct TensorSpec {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
};

// Writes a safetensors file atomically (header padded to 8 bytes, tensors in the given order).
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors);
// Streaming form: fill(i, bytes) produces tensor i's bytes, one tensor in memory at a time.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorSpec>& specs,
                       const std::function<void(size_t, std::vector<uint8_t>&)>& fill);

}  // namespace um::model
