#pragma once
// A read-only memory map of a whole file, for readers that make several passes over large inputs
// or parse lines in place (no copy through a read buffer).
//
//   util::MappedFile f(path);
//   std::string_view all = f.view(); ... f.release(0, consumed);
//
// The mapping is private and read-only; the file must not be truncated while mapped. release()
// drops pages from this process's resident set (the page cache keeps them), so a sequential pass
// over a file larger than memory keeps a small footprint; released pages are read again on access.
// Empty files map to an empty view. Not thread-safe for release(); view() may be read concurrently.
//
// Inputs that cannot be mapped — "-" (standard input) and pipes, FIFOs, sockets and character devices
// such as bash's <(...) — are read once into memory instead; view() is the same, release() does
// nothing for them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace um::util {

class MappedFile {
 public:
  // Throws util::Error (file) if the file cannot be opened, mapped or read.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const { return {data_, size_}; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the whole pages inside [begin, end) from the resident set.
  void release(uint64_t begin, uint64_t end);

 private:
  std::string path_;
  const char* data_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;
  std::string read_;  // the bytes of a stream input (not mapped)
};

}  // namespace um::util
