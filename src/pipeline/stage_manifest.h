#pragma once
// Stage completion records for `usermirror run`: WORK/.stages/<stage>.json holds the stage's input
// fingerprint and, once it finished, the size and content hash of every output. A stage is skipped
// only when its record says complete, the fingerprint matches (same inputs and parameters), and
// every output still has the recorded size and hash — so an edited or truncated output, or a
// changed parameter, reruns the stage.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace um::pipeline {

// 64-bit content hash of a file (streamed), or of a folder's files in name order.
uint64_t hash_path(const std::filesystem::path& path);

// Builds a fingerprint from parameters and input files.
class Fingerprint {
 public:
  Fingerprint& add(const std::string& key, const std::string& value);
  Fingerprint& add(const std::string& key, int64_t value) { return add(key, std::to_string(value)); }
  Fingerprint& add(const std::string& key, double value);
  Fingerprint& add_file(const std::string& key, const std::filesystem::path& path);
  std::string hex() const;

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

class StageManifest {
 public:
  StageManifest(std::filesystem::path work, std::string stage);
  // True if the stage completed with this fingerprint and its outputs are unchanged.
  bool complete(const std::string& fingerprint) const;
  // Records that the stage starts with `fingerprint`; returns true when an earlier attempt with a
  // different fingerprint left partial state that must be discarded.
  bool begin(const std::string& fingerprint);
  void finish(const std::string& fingerprint, const std::vector<std::filesystem::path>& outputs);
  const std::string& stage() const { return stage_; }
  const std::filesystem::path& file() const { return file_; }  // WORK/.stages/<stage, '/' → '.'>.json

 private:
  std::filesystem::path file_;
  std::string stage_;
};

}  // namespace um::pipeline
