#include "scene/exposure/safetensors_io.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/float16.h"
#include "util/mapped_file.h"
#include "util/safetensors_header.h"

namespace um::scene {

Matrix2D read_safetensors_matrix(const std::filesystem::path& path, const std::string& key) {
  util::MappedFile file(path);
  const util::SafetensorsHeader h = util::parse_safetensors_header(file.view(), file.size(), file.path());
  const util::SafetensorsTensor& t = h.at(key, file.path());
  Matrix2D m;
  m.metadata = h.metadata;
  if (t.shape.size() != 2) throw util::Error("tensor is not 2-D", {.file = file.path(), .field = key});
  if (t.dtype != "F32" && t.dtype != "F64" && t.dtype != "F16" && t.dtype != "BF16")
    throw util::Error("unsupported dtype " + t.dtype, {.file = file.path(), .field = key});
  const size_t width = t.dtype_size;
  m.rows = static_cast<size_t>(t.shape[0]);
  m.cols = static_cast<size_t>(t.shape[1]);
  const uint64_t n = t.numel();  // the header guarantees n × width == the tensor's bytes in the file
  const auto* raw = reinterpret_cast<const unsigned char*>(file.view().data() + h.data_begin + t.begin);
  m.data.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    const unsigned char* p = raw + i * width;
    if (t.dtype == "F32") {
      std::memcpy(&m.data[i], p, 4);
    } else if (t.dtype == "F64") {
      double d;
      std::memcpy(&d, p, 8);
      m.data[i] = static_cast<float>(d);
    } else if (t.dtype == "BF16") {
      m.data[i] = util::bf16_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    } else {
      m.data[i] = util::f16_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    }
  }
  return m;
}

void write_safetensors_matrix(const std::filesystem::path& path, const std::string& key, const Matrix2D& m) {
  nlohmann::json h;
  if (!m.metadata.empty()) h["__metadata__"] = m.metadata;
  uint64_t bytes = static_cast<uint64_t>(m.rows) * m.cols * 4;
  h[key] = {{"dtype", "F32"}, {"shape", {m.rows, m.cols}}, {"data_offsets", {0, bytes}}};
  std::string header = h.dump();
  while ((header.size() + 8) % 8 != 0) header.push_back(' ');  // align data to 8 bytes
  std::string out;
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  out += header;
  out.append(reinterpret_cast<const char*>(m.data.data()), bytes);
  std::filesystem::create_directories(path.parent_path());
  util::write_file_atomic(path, out);
}

}  // namespace um::scene
