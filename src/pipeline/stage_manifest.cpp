#include "pipeline/stage_manifest.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/json_writer.h"
#include "util/rng.h"

namespace um::pipeline {
namespace fs = std::filesystem;

namespace {
constexpr uint64_t kPrime = 0x100000001b3ull;
void mix(uint64_t& h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= kPrime;
  }
}
}  // namespace

uint64_t hash_path(const fs::path& path) {
  uint64_t h = 0xcbf29ce484222325ull;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string rel = fs::relative(f, path).string();
      mix(h, rel.data(), rel.size());
      uint64_t sub = hash_path(f);
      mix(h, &sub, sizeof sub);
    }
    return h;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw util::Error("cannot read", {.file = path.string()});
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    mix(h, buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h;
}

Fingerprint& Fingerprint::add(const std::string& key, const std::string& value) {
  uint64_t n = key.size();
  mix(h_, &n, sizeof n);
  mix(h_, key.data(), key.size());
  n = value.size();
  mix(h_, &n, sizeof n);
  mix(h_, value.data(), value.size());
  return *this;
}

Fingerprint& Fingerprint::add(const std::string& key, double value) {
  return add(key, util::python_float_repr(value));
}

Fingerprint& Fingerprint::add_file(const std::string& key, const fs::path& path) {
  return add(key, util::hex64(hash_path(path)));
}

std::string Fingerprint::hex() const { return util::hex64(h_); }

StageManifest::StageManifest(fs::path work, std::string stage) : stage_(std::move(stage)) {
  std::string name = stage_;
  std::replace(name.begin(), name.end(), '/', '.');
  file_ = work / ".stages" / (name + ".json");
}

namespace {
nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return nullptr;  // a corrupt record means "not complete": the stage reruns
  }
}
}  // namespace

bool StageManifest::complete(const std::string& fingerprint) const {
  auto j = read_json(file_);
  if (!j.is_object() || j.value("fingerprint", "") != fingerprint || !j.value("complete", false))
    return false;
  for (const auto& o : j.value("outputs", nlohmann::json::array())) {
    fs::path p = o.value("path", "");
    std::error_code ec;
    if (!fs::exists(p, ec)) return false;
    if (!fs::is_directory(p) && fs::file_size(p, ec) != o.value("size", uint64_t{0})) return false;
    if (util::hex64(hash_path(p)) != o.value("hash", "")) return false;
  }
  return true;
}

bool StageManifest::begin(const std::string& fingerprint) {
  auto j = read_json(file_);
  bool stale = j.is_object() && j.value("fingerprint", "") != fingerprint;
  nlohmann::json rec = {{"stage", stage_}, {"fingerprint", fingerprint}, {"complete", false}};
  util::write_file_atomic(file_, rec.dump(2) + "\n");
  return stale;
}

void StageManifest::finish(const std::string& fingerprint, const std::vector<fs::path>& outputs) {
  nlohmann::json rec = {{"stage", stage_}, {"fingerprint", fingerprint}, {"complete", true}};
  rec["outputs"] = nlohmann::json::array();
  for (const auto& p : outputs) {
    std::error_code ec;
    uint64_t size = fs::is_directory(p) ? 0 : fs::file_size(p, ec);
    if (ec) throw util::Error("stage output missing", {.file = p.string(), .record = stage_});
    rec["outputs"].push_back({{"path", p.string()}, {"size", size}, {"hash", util::hex64(hash_path(p))}});
  }
  util::write_file_atomic(file_, rec.dump(2) + "\n");
}

}  // namespace um::pipeline
