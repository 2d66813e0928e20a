#include "util/safetensors_header.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace um::util {

namespace {

using nlohmann::json;

struct DType {
  std::string_view name;
  size_t size;
};

// The dtypes of the safetensors format (huggingface/safetensors, Dtype).
constexpr DType kDTypes[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
                             {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
                             {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};

SafetensorsTensor parse_tensor(const json& info, uint64_t data_size, const std::string& source,
                               const std::string& name) {
  SafetensorsTensor t;
  t.dtype = info.at("dtype").get<std::string>();
  t.dtype_size = safetensors_dtype_size(t.dtype);
  if (t.dtype_size == 0) {
    throw NotSupported("tensor dtype '" + t.dtype + "' is not a safetensors dtype",
                       {.file = source, .field = name + ".dtype"});
  }
  t.shape = info.at("shape").get<std::vector<int64_t>>();
  auto off = info.at("data_offsets").get<std::vector<uint64_t>>();
  if (off.size() != 2 || off[0] > off[1] || off[1] > data_size) {
    throw Error("data_offsets out of range", {.file = source, .field = name});
  }
  t.begin = off[0];
  t.end = off[1];
  // Every dimension non-negative and the element count bounded by the bytes present, checked before
  // multiplying (a hostile shape must not overflow the count).
  const uint64_t limit = t.nbytes() / t.dtype_size;
  uint64_t elems = 1;
  for (int64_t d : t.shape) {
    if (d < 0) throw Error("negative dimension in shape", {.file = source, .field = name});
    const auto ud = static_cast<uint64_t>(d);
    if (ud != 0 && elems > limit / ud)
      throw Error("shape does not match data_offsets", {.file = source, .field = name});
    elems *= ud;
  }
  if (elems * t.dtype_size != t.nbytes())
    throw Error("shape does not match data_offsets", {.file = source, .field = name});
  return t;
}

}  // namespace

uint64_t SafetensorsTensor::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

const SafetensorsTensor& SafetensorsHeader::at(const std::string& name, const std::string& source) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("tensor not found", {.file = source, .field = name});
  return it->second;
}

size_t safetensors_dtype_size(std::string_view dtype) {
  for (const auto& d : kDTypes) {
    if (d.name == dtype) return d.size;
  }
  return 0;
}

SafetensorsHeader parse_safetensors_header(std::string_view file_start, uint64_t file_size,
                                           const std::string& source) {
  if (file_size < 8 || file_start.size() < 8)
    throw Error("file too short for a safetensors header", {.file = source});
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i)
    hlen = (hlen << 8) | static_cast<unsigned char>(file_start[static_cast<size_t>(i)]);
  if (hlen > file_size - 8) throw Error("safetensors header length exceeds the file size", {.file = source});
  if (hlen > file_start.size() - 8) throw Error("truncated safetensors header", {.file = source});
  SafetensorsHeader h;
  h.data_begin = 8 + hlen;
  const uint64_t data_size = file_size - h.data_begin;
  json header;
  try {
    header = json::parse(file_start.substr(8, hlen));
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number beyond double's
    throw Error(std::string("invalid safetensors header JSON: ") + e.what(), {.file = source});
  }
  if (!header.is_object()) throw Error("safetensors header is not a JSON object", {.file = source});
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (info.is_object()) {
        for (auto& [key, value] : info.items()) {
          if (value.is_string()) h.metadata[key] = value.get<std::string>();
        }
      }
      continue;
    }
    try {
      h.tensors.emplace(name, parse_tensor(info, data_size, source, name));
    } catch (const json::exception& e) {  // a missing key or a value of the wrong type
      throw Error(std::string("malformed safetensors header: ") + e.what(), {.file = source, .field = name});
    }
  }
  return h;
}

}  // namespace um::util
