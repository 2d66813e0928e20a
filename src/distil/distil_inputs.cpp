#include "distil/distil_inputs.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "distil/work_layout.h"
#include "util/error.h"

namespace um::distil {

LineBatches::LineBatches(const std::filesystem::path& path) : path_(path.string()) {
  std::error_code ec;
  size_ = std::filesystem::file_size(path, ec);
  if (ec) throw util::Error("cannot open: " + ec.message(), {.file = path_});
  gz_ = gzopen(path_.c_str(), "rb");
  if (gz_ == nullptr) throw util::Error("cannot open for reading", {.file = path_});
  gzbuffer(gz_, 1 << 17);
  compressed_ = gzdirect(gz_) == 0;
}

LineBatches::~LineBatches() { gzclose(gz_); }

uint64_t LineBatches::position() const {
  const z_off_t off = gzoffset(gz_);
  return off < 0 ? 0 : static_cast<uint64_t>(off);
}

size_t LineBatches::next(size_t max, std::vector<Row>& rows) {
  if (spans_.size() < max) spans_.resize(max);
  if (begin_ > 0) {  // keep the unread tail (a partial line) at the front
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    base_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  size_t n = 0, pos = 0, scan = 0;
  while (n < max) {
    // (the buffer is still unallocated before the first fill(): memchr must not see a null pointer)
    const void* nl = scan < end_ ? std::memchr(buf_.get() + scan, '\n', end_ - scan) : nullptr;
    if (nl != nullptr) {
      const auto at = static_cast<size_t>(static_cast<const char*>(nl) - buf_.get());
      spans_[n++] = {pos, at - pos};
      pos = scan = at + 1;
      continue;
    }
    scan = end_;
    if (fill()) continue;
    if (pos < end_) {  // a last line without "\n"
      spans_[n++] = {pos, end_ - pos};
      pos = end_;
    }
    break;
  }
  begin_ = pos;
  for (size_t i = 0; i < n; ++i) {
    auto [off, len] = spans_[i];
    if (len > 0 && buf_[off + len - 1] == '\r') --len;
    rows[i].line = JsonLine(std::string_view(buf_.get() + off, len));
    rows[i].line.padded = true;  // the buffer's next bytes: more lines or spare room
    rows[i].offset = base_ + off;
  }
  line_no_ += static_cast<int64_t>(n);
  return n;
}

bool LineBatches::fill() {
  if (eof_) return false;
  if (capacity_ < end_ + kChunk + kJsonPadding) {  // grow, without zero-filling
    const size_t grown = std::max(2 * capacity_, end_ + kChunk + kJsonPadding);
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    capacity_ = grown;
  }
  const size_t room = std::min<size_t>(capacity_ - end_ - kJsonPadding, 1u << 30);
  const int got = gzread(gz_, buf_.get() + end_, static_cast<unsigned>(room));
  if (got < 0) {
    int errnum = 0;
    const char* msg = gzerror(gz_, &errnum);
    throw util::Error(std::string("read error: ") + (msg ? msg : "unknown"),
                      {.file = path_, .line = line_no_});
  }
  if (got == 0) {
    int errnum = 0;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END)
      throw util::Error(std::string("decompression error: ") + (msg ? msg : "unknown"),
                        {.file = path_, .line = line_no_ + 1});
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(got);
  return true;
}

JsonLine MappedInput::line(uint64_t offset, size_t size, std::string& copy) const {
  const std::string_view text = bytes(offset, size);
  if (offset + size + kJsonPadding <= map_.size()) {
    JsonLine l(text);
    l.padded = true;  // the file's next bytes are padding simdjson may read (never parse)
    return l;
  }
  pad_line(copy, text);
  return JsonLine::in_padded(copy);
}

std::string_view MappedInput::bytes(uint64_t offset, size_t size) const {
  if (offset + size > map_.size())
    throw util::Error("input file changed during distil (shorter than in the first pass)",
                      {.file = map_.path()});
  return map_.view().substr(offset, size);
}

void MappedInput::release_before(uint64_t offset) {
  if (offset <= released_) return;
  map_.release(released_, offset);
  released_ = offset;
}

AlignedFiles::AlignedFiles(const std::filesystem::path& work, const std::string& ds)
    : paths_{scenes_path(work, ds, "train"), probs_path(work, ds, "strong"), probs_path(work, ds, "weak")} {
  for (const auto& p : paths_)
    if (!std::filesystem::exists(p)) throw util::Error("input file not found", {.file = p.string()});
  for (size_t f = 0; f < 3; ++f) files_[f].emplace(paths_[f]);
}

size_t AlignedFiles::next_batch(std::vector<Row> (&rows)[3]) {
  size_t n[3];
  for (size_t f = 0; f < 3; ++f) {
    if (rows[f].size() < kBatchLines) rows[f].resize(kBatchLines);
    n[f] = files_[f]->next(kBatchLines, rows[f]);
  }
  if (n[0] != n[1] || n[0] != n[2]) {
    const size_t least = std::min({n[0], n[1], n[2]});
    const size_t shorter = n[1] == least ? 1 : n[2] == least ? 2 : 0;
    throw util::Error("file has fewer lines than the others (each line is one train scene, in order)",
                      {.file = path(shorter), .line = files_[shorter]->line_number() + 1});
  }
  return n[0];
}

void AlignedFiles::start_pass2() {
  if (any_compressed()) {
    for (size_t f = 0; f < 3; ++f) files_[f].emplace(paths_[f]);
  } else {
    for (size_t f = 0; f < 3; ++f) mapped_[f].emplace(paths_[f]);
  }
}

}  // namespace um::distil
