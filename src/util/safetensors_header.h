#pragma once
// The header of a safetensors file — an 8-byte little-endian length N, N bytes of JSON naming each
// tensor's dtype, shape and byte range, then the data section — parsed and checked in one place for
// every reader (the model's weights, the scene's embedding caches; docs/architecture.md, "One owner
// per concept"). Only the header is interpreted: the data stays wherever the caller holds the file
// (a memory mapping, util::MappedFile).
//
//   util::MappedFile f(path);
//   util::SafetensorsHeader h = util::parse_safetensors_header(f.view(), f.size(), f.path());
//   const util::SafetensorsTensor& t = h.at("emb", f.path());  // util::Error naming file and key
//   const char* bytes = f.view().data() + h.data_begin + t.begin;  // t.end - t.begin bytes
//
// Guarantees on return, for EVERY tensor of the header (not only the ones a caller reads): a dtype
// of the safetensors format, every dimension >= 0, begin <= end <= the data section's size, and
// end - begin == elements × dtype size, checked without overflowing the element count. `metadata`
// holds the string values of "__metadata__" (other values are ignored). Errors are util::Error
// naming the file (and the tensor in `field`); a dtype outside the format is util::NotSupported.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace um::util {

struct SafetensorsTensor {
  std::string dtype;      // as written: "F32", "BF16", "F16", "F64", "I64", ...
  size_t dtype_size = 0;  // bytes per element
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data section
  uint64_t nbytes() const { return end - begin; }
  uint64_t numel() const;
};

struct SafetensorsHeader {
  uint64_t data_begin = 0;  // file offset of the data section: 8 + header length
  std::map<std::string, SafetensorsTensor> tensors;
  std::map<std::string, std::string> metadata;
  // The tensor called `name`; util::Error (file = source, field = name) when the header has none.
  const SafetensorsTensor& at(const std::string& name, const std::string& source) const;
};

// Bytes per element of a safetensors dtype name, or 0 for a name the format does not define.
size_t safetensors_dtype_size(std::string_view dtype);

// `file_start`: the file's first bytes, at least 8 + the header length of them (the whole file
// will do); `file_size`: the whole file's size in bytes; `source` names the file in errors.
SafetensorsHeader parse_safetensors_header(std::string_view file_start, uint64_t file_size,
                                           const std::string& source);

}  // namespace um::util
