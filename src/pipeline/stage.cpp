#include "pipeline/stage.h"

#include <cstdio>

#include "util/json_writer.h"

namespace um::pipeline {
namespace fs = std::filesystem;

Stage& Stage::param(const std::string& key, const std::string& value) {
  keys.push_back({.key = key, .value = value});
  return *this;
}

// The same text Fingerprint::add(key, int64_t) and Fingerprint::add(key, double) hash.
Stage& Stage::param(const std::string& key, int64_t value) { return param(key, std::to_string(value)); }
Stage& Stage::param(const std::string& key, double value) {
  return param(key, util::python_float_repr(value));
}

Stage& Stage::input(const std::string& key, const fs::path& file) {
  keys.push_back({.key = key, .file = file, .is_file = true});
  return *this;
}

std::vector<fs::path> Stage::inputs() const {
  std::vector<fs::path> files;
  for (const auto& k : keys)
    if (k.is_file) files.push_back(k.file);
  return files;
}

Fingerprint Stage::fingerprint() const {
  Fingerprint fp;
  for (const auto& k : keys) {
    if (k.is_file)
      fp.add_file(k.key, k.file);
    else
      fp.add(k.key, k.value);
  }
  return fp;
}

bool run_stage(const fs::path& work, const Stage& stage) {
  const std::string fp = stage.fingerprint().hex();
  StageManifest m(work, stage.id);
  if (m.complete(fp)) {
    std::printf("[run] %-32s skipped: outputs complete\n", stage.id.c_str());
    return false;
  }
  std::printf("[run] %-32s running\n", stage.id.c_str());
  std::fflush(stdout);
  if (m.begin(fp) && stage.reset) stage.reset();
  stage.run();
  m.finish(fp, stage.outputs);
  return true;
}

}  // namespace um::pipeline
