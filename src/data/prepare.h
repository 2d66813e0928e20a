#pragma once
// `usermirror prepare`: raw public dataset → raws/<DS>_{user_feature,item_feature,interaction}.jsonl
// (+ binary cache), every output written atomically.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "data/reader.h"

namespace um::data {

struct PrepareOptions {
  std::string dataset;
  std::filesystem::path raw_dir;
  std::filesystem::path work_dir;
  bool skip_bad = false;
  FilterOptions filters;
  Compat compat = Compat::usermirror;  // docs/reference-differences.md, "--compat reference"
};

struct PrepareResult {
  uint64_t users = 0;
  uint64_t items = 0;
  uint64_t interactions = 0;
  std::map<std::string, uint64_t> skipped;  // bad records by reason (only with skip_bad)
  std::map<std::string, uint64_t> stats;    // reader counters (rows read, rows filtered out, ...)
};

PrepareResult prepare(const PrepareOptions& opts);

}  // namespace um::data
