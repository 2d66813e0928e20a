#pragma once
// Reading and writing the unified three-file JSONL layout (raws/<DS>_*.jsonl) plus a binary cache.
//
//   data::write_dataset(work, ds);                  // 3 JSONL files + raws/<DS>.umds, each atomic
//   data::Dataset ds = data::load_dataset(work, "ml-1m");   // cache if valid, else JSONL
//
// JSONL output follows the reference's field names and meaning; timestamps are written as UTC
// "YYYY-MM-DD HH:MM:SS[.ffffff]" strings. The JSONL reader also accepts files written by the
// reference's pandas code: integer ids, epoch numbers (s/ms/us/ns), and the timestamp string
// formats listed in docs/reference-differences.md.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "data/schema.h"

namespace um::data {

struct LoadStats {
  bool from_cache = false;
  double seconds = 0;
};

void write_dataset(const std::filesystem::path& work, const Dataset& ds);
Dataset load_dataset(const std::filesystem::path& work, const std::string& name, LoadStats* stats = nullptr);

// Parses the JSONL files only (ignores any cache); errors name file, line and field.
Dataset read_dataset_jsonl(const std::filesystem::path& work, const std::string& name);

}  // namespace um::data
