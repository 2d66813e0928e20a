#pragma once
// Streaming line reader, gzip-transparent (zlib reads plain files unchanged), CRLF-tolerant.
//
//   util::LineReader in(path);
//   std::string_view line;
//   while (in.next(line)) { ... in.line_number() ... }
//
// Lines are returned without the trailing "\n" or "\r\n". A view stays valid until the next call.
// Never loads a whole file: memory is one buffer plus the longest line.
//
// Every input that can be read front to back works: "-" is standard input, and pipes, FIFOs,
// sockets and character devices (bash's <(...), /dev/stdin) are read like files, with
// file_size() = 0 (unknown).
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace um::util {

class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path, size_t buffer_bytes = 1 << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line; false at end of file. Throws util::Error on read/decompression errors.
  bool next(std::string_view& line);
  // Reads raw bytes up to and including the next '\n' (no CR stripping); used by record readers
  // whose records may span lines (quoted CSV). Appends to `out`. False at end of file.
  bool next_raw(std::string& out);
  int64_t line_number() const { return line_no_; }
  const std::string& path() const { return path_; }
  // Compressed/raw bytes consumed so far and total file size (0 for streams), for progress bars.
  uint64_t bytes_read() const;
  uint64_t file_size() const { return file_size_; }

 private:
  bool fill();
  gzFile gz_ = nullptr;
  std::string path_;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  std::string carry_;
  int64_t line_no_ = 0;
  uint64_t file_size_ = 0;
};

// Whole-file read, gzip-transparent, "-" and streams included. For small side files only
// (metadata, configs).
std::string read_file(const std::filesystem::path& path);

// "-": the conventional name of standard input for a file argument.
bool is_stdin_path(const std::filesystem::path& path);
// True for "-" and for paths naming a pipe, FIFO, socket or character device: inputs that can be
// read once, front to back, but not mapped, sized, reopened or read twice.
bool is_stream_input(const std::filesystem::path& path);

}  // namespace um::util
