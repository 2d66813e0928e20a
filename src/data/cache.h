#pragma once
// Binary cache of a prepared dataset (raws/<DS>.umds): magic, version, the size and mtime of the
// three JSONL files it was made from, the records, and a checksum, all verified on open. Loading it
// is a single sequential read instead of a JSON parse of every line.
#include <filesystem>
#include <optional>
#include <string>

#include "data/schema.h"

namespace um::data {

void write_cache(const std::filesystem::path& work, const Dataset& ds);

// The two halves of write_cache, so the records can be encoded while the JSONL files are written:
// the file stamps it records must be taken after those files are committed.
struct CacheBody {
  std::string bytes;
  uint64_t hash = 0;
};
CacheBody encode_cache_body(const Dataset& ds);
void write_cache(const std::filesystem::path& work, const std::string& name, const CacheBody& body);
// nullopt when absent, stale (JSONL files changed since) or corrupt (checksum/magic mismatch).
std::optional<Dataset> read_cache(const std::filesystem::path& work, const std::string& name);

}  // namespace um::data
