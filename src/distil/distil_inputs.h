#pragma once
// How distil reads its three input files (internal to distil; distil.h does not include it): the
// train file and the strong/weak probs files of one dataset, read in lockstep a batch of lines at a
// time and parsed where they lie (pass 1, and pass 2 over gzip inputs), or mapped so that pass 2
// reads back only the selected scenes' lines and strings (plain inputs).
//
//   AlignedFiles files(work, "ml-1m");   // throws "input file not found" naming the missing file
//   std::vector<Row> rows[3];
//   while (size_t n = files.next_batch(rows)) { /* rows[f][0..n): line r of file f */ }
//
// Not thread-safe: one reader per dataset, used by one thread (the parsed rows may be read by many).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distil/reference_io.h"
#include "util/mapped_file.h"

struct gzFile_s;

namespace um::distil {

// Rows per batch: small enough that a batch's lines are still in cache when they are parsed.
inline constexpr size_t kBatchLines = 256;

// One line of an input file, parsable in place, and the byte offset where it starts.
struct Row {
  JsonLine line{std::string_view()};
  uint64_t offset = 0;
};

// The lines of one input file, read a batch at a time into one buffer and parsed where they lie
// (no copy per line: the buffer keeps kJsonPadding spare bytes after its data). zlib reads plain
// files unchanged and gzip files decompressed; for plain files a line's offset is its byte offset
// in the file. Lines end at "\n" (a "\r" before it is dropped) and the last one needs none, as
// util::LineReader's do.
class LineBatches {
 public:
  // Throws util::Error (file) when the file cannot be opened.
  explicit LineBatches(const std::filesystem::path& path);
  ~LineBatches();
  LineBatches(const LineBatches&) = delete;
  LineBatches& operator=(const LineBatches&) = delete;

  bool compressed() const { return compressed_; }
  const std::string& path() const { return path_; }
  int64_t line_number() const { return line_no_; }  // lines returned so far
  uint64_t size() const { return size_; }           // of the file on disk (compressed or not)
  uint64_t position() const;                        // bytes of the file on disk consumed so far

  // Up to `max` next lines into rows[0..n) (rows.size() >= max); returns n (0 at the end). The lines
  // stay valid until the next call. Throws util::Error (file, line) on a read or decompression error.
  size_t next(size_t max, std::vector<Row>& rows);

 private:
  static constexpr size_t kChunk = 1 << 18;  // small: the unread tail moved per batch is below it
  // Reads more bytes after end_ (growing the buffer as needed); false at the end of the file.
  bool fill();

  std::string path_;
  gzFile_s* gz_ = nullptr;
  bool compressed_ = false;
  uint64_t size_ = 0;
  std::unique_ptr<char[]> buf_;  // [begin_, end_) unread, then >= kJsonPadding spare bytes
  size_t capacity_ = 0;
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) of this batch's lines in buf_
  size_t begin_ = 0, end_ = 0;
  uint64_t base_ = 0;  // offset of buf_[0] in the (decompressed) file
  bool eof_ = false;
  int64_t line_no_ = 0;
};

// A plain input file mapped for pass 2, which reads only the selected scenes' lines and strings.
class MappedInput {
 public:
  explicit MappedInput(const std::filesystem::path& path) : map_(path) {}
  // Bytes [offset, offset + size) as a line to parse; `copy` backs it near the end of the file.
  JsonLine line(uint64_t offset, size_t size, std::string& copy) const;
  // Throws util::Error (file) when the range lies past the end of the file.
  std::string_view bytes(uint64_t offset, size_t size) const;
  // Pages before `offset` will not be read again (selected lines come in file order).
  void release_before(uint64_t offset);

 private:
  util::MappedFile map_;
  uint64_t released_ = 0;
};

// The train file and both probs files, read in lockstep (row r of each is scene r).
class AlignedFiles {
 public:
  // Files 0, 1, 2: <work>/datasets/<ds>_train.jsonl, <work>/probs/<ds>_probs_{strong,weak}.jsonl.
  AlignedFiles(const std::filesystem::path& work, const std::string& ds);
  // Reads up to kBatchLines rows into rows[0..2]; returns the row count (0 at the end). Throws
  // util::Error (file, line) naming the file that ends first when the three differ in length.
  size_t next_batch(std::vector<Row> (&rows)[3]);
  LineBatches& file(size_t f) { return *files_[f]; }
  const std::string& path(size_t f) const { return files_[f]->path(); }
  bool any_compressed() const {
    return files_[0]->compressed() || files_[1]->compressed() || files_[2]->compressed();
  }
  // Pass 2 over plain files: the mapped files; over compressed ones: a fresh sequential read.
  void start_pass2();
  MappedInput& mapped(size_t f) { return *mapped_[f]; }

 private:
  std::filesystem::path paths_[3];
  std::optional<LineBatches> files_[3];
  std::optional<MappedInput> mapped_[3];
};

}  // namespace um::distil
