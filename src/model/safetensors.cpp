#include "model/safetensors.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/safetensors_header.h"

namespace um::model {

namespace {
using nlohmann::json;

StDType parse_st_dtype(const std::string& s, const std::string& src, const std::string& name) {
  if (s == "F32") return StDType::F32;
  if (s == "F16") return StDType::F16;
  if (s == "BF16") return StDType::BF16;
  throw util::NotSupported("tensor dtype '" + s + "' is not supported (F32, F16, BF16)",
                           {.file = src, .field = name + ".dtype"});
}
}  // namespace

size_t st_dtype_size(StDType d) { return d == StDType::F32 ? 4 : 2; }
const char* st_dtype_name(StDType d) {
  switch (d) {
    case StDType::F32:
      return "F32";
    case StDType::F16:
      return "F16";
    case StDType::BF16:
      return "BF16";
  }
  return "?";
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path), file_(path) {
  static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");
  const std::string src = path.string();
  // The header's checks (dtype sizes, offsets inside the data section, shape × dtype size = bytes)
  // are util's, shared with the scene's embedding caches.
  const util::SafetensorsHeader header = util::parse_safetensors_header(file_.view(), file_.size(), src);
  const char* data = file_.view().data() + header.data_begin;
  for (const auto& [name, t] : header.tensors) {
    TensorView v;
    v.dtype = parse_st_dtype(t.dtype, src, name);
    v.shape = t.shape;
    v.nbytes = t.nbytes();
    v.data = data + t.begin;
    tensors_.emplace(name, std::move(v));
  }
}

void SafetensorsFile::release_resident_pages() const { file_.release(0, file_.size()); }

void SafetensorsSet::release_resident_pages() const {
  for (const auto& f : files_) f->release_resident_pages();
}

SafetensorsSet::SafetensorsSet(const std::filesystem::path& dir) : dir_(dir) {
  auto single = dir / "model.safetensors";
  auto index = dir / "model.safetensors.index.json";
  if (std::filesystem::exists(index)) {
    std::ifstream in(index);
    std::stringstream ss;
    ss << in.rdbuf();
    json j;
    try {
      j = json::parse(ss.str());
    } catch (const json::parse_error& e) {
      throw util::Error(std::string("invalid JSON: ") + e.what(), {.file = index.string()});
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw util::Error("missing weight_map", {.file = index.string(), .field = "weight_map"});
    }
    std::map<std::string, SafetensorsFile*> opened;
    for (auto& [name, file] : j["weight_map"].items()) {
      std::string f = file.get<std::string>();
      auto it = opened.find(f);
      if (it == opened.end()) {
        files_.push_back(std::make_unique<SafetensorsFile>(dir / f));
        it = opened.emplace(f, files_.back().get()).first;
      }
      auto t = it->second->tensors().find(name);
      if (t == it->second->tensors().end()) {
        throw util::Error("tensor listed in the index is missing from its shard",
                          {.file = (dir / f).string(), .field = name});
      }
      index_[name] = &t->second;
    }
  } else if (std::filesystem::exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& [name, v] : files_.back()->tensors()) index_[name] = &v;
  } else {
    throw util::Error("no model.safetensors or model.safetensors.index.json", {.file = dir.string()});
  }
}

const TensorView* SafetensorsSet::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

const TensorView& SafetensorsSet::at(const std::string& name) const {
  const TensorView* v = find(name);
  if (!v)
    throw util::Error("tensor is missing from the model weights", {.file = dir_.string(), .field = name});
  return *v;
}

std::vector<std::string> SafetensorsSet::names() const {
  std::vector<std::string> out;
  for (const auto& [n, v] : index_) out.push_back(n);
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors) {
  std::vector<TensorSpec> specs;
  for (const auto& t : tensors) specs.push_back({t.name, t.dtype, t.shape});
  write_safetensors(path, specs, [&](size_t i, std::vector<uint8_t>& bytes) { bytes = tensors[i].bytes; });
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorSpec>& specs,
                       const std::function<void(size_t, std::vector<uint8_t>&)>& fill) {
  json header = json::object();
  uint64_t off = 0;
  std::vector<size_t> sizes;
  for (const auto& t : specs) {
    size_t n = st_dtype_size(t.dtype);
    for (auto d : t.shape) n *= static_cast<size_t>(d);
    sizes.push_back(n);
    header[t.name] = {
        {"dtype", st_dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');
  uint64_t hlen = h.size();
  util::AtomicWriter out(path);
  char len_bytes[8];
  std::memcpy(len_bytes, &hlen, 8);
  out.write(std::string_view(len_bytes, 8));
  out.write(h);
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < specs.size(); ++i) {
    bytes.clear();
    fill(i, bytes);
    if (bytes.size() != sizes[i])
      throw util::Error("tensor byte size does not match its shape", {.field = specs[i].name});
    out.write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  out.commit();
}

}  // namespace um::model
