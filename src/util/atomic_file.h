#pragma once
// Output files written to a temporary name in the same directory and renamed on commit(), so a
// failed or killed run never leaves a half-written file that looks complete.
//
//   util::AtomicWriter out(dir / "x.jsonl");
//   out.write(line);
//   out.commit();   // fsync + rename; without it the destructor deletes the temporary
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace um::util {

class AtomicWriter {
 public:
  explicit AtomicWriter(std::filesystem::path target);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(std::string_view bytes);
  // Writes the parts in order straight from their memory (one writev per 1024 parts, no copy into
  // the buffer): for batches of large records built elsewhere.
  void write_parts(std::span<const std::string_view> parts);
  void commit();
  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  uint64_t bytes_written() const { return bytes_; }

 private:
  void flush_buffer();
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  std::string buf_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace um::util
