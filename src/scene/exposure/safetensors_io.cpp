#include "scene/exposure/safetensors_io.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"

namespace um::scene {

namespace {

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3FF;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

Matrix2D read_safetensors_matrix(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw util::Error("cannot open safetensors file", {.file = path.string()});
  uint64_t header_len = 0;
  unsigned char lenbuf[8];
  if (!in.read(reinterpret_cast<char*>(lenbuf), 8))
    throw util::Error("truncated safetensors header", {.file = path.string()});
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | lenbuf[i];
  auto file_size = std::filesystem::file_size(path);
  if (header_len > file_size - 8)
    throw util::Error("safetensors header length exceeds the file", {.file = path.string()});
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw util::Error(std::string("safetensors header is not JSON: ") + e.what(), {.file = path.string()});
  }
  Matrix2D m;
  if (h.contains("__metadata__") && h["__metadata__"].is_object()) {
    for (auto it = h["__metadata__"].begin(); it != h["__metadata__"].end(); ++it) {
      if (it->is_string()) m.metadata[it.key()] = it->get<std::string>();
    }
  }
  if (!h.contains(key)) throw util::Error("tensor not found", {.file = path.string(), .field = key});
  const auto& t = h[key];
  std::string dtype = t.value("dtype", "");
  auto shape = t.value("shape", std::vector<uint64_t>{});
  auto offs = t.value("data_offsets", std::vector<uint64_t>{});
  if (shape.size() != 2 || offs.size() != 2) {
    throw util::Error("tensor is not 2-D or lacks data_offsets", {.file = path.string(), .field = key});
  }
  size_t width = dtype == "F32" ? 4 : dtype == "F64" ? 8 : (dtype == "F16" || dtype == "BF16") ? 2 : 0;
  if (width == 0) throw util::Error("unsupported dtype " + dtype, {.file = path.string(), .field = key});
  m.rows = shape[0];
  m.cols = shape[1];
  uint64_t n = m.rows * m.cols;
  if (offs[1] - offs[0] != n * width || 8 + header_len + offs[1] > file_size) {
    throw util::Error("tensor data size does not match its shape", {.file = path.string(), .field = key});
  }
  std::vector<unsigned char> raw(n * width);
  in.seekg(static_cast<std::streamoff>(8 + header_len + offs[0]));
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  if (!in) throw util::Error("truncated tensor data", {.file = path.string(), .field = key});
  m.data.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    const unsigned char* p = raw.data() + i * width;
    if (dtype == "F32") {
      std::memcpy(&m.data[i], p, 4);
    } else if (dtype == "F64") {
      double d;
      std::memcpy(&d, p, 8);
      m.data[i] = static_cast<float>(d);
    } else if (dtype == "BF16") {
      uint32_t bits = static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16;
      std::memcpy(&m.data[i], &bits, 4);
    } else {
      m.data[i] = half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8)));
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
