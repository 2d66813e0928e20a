#include "util/line_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace um::util {

LineReader::LineReader(const std::filesystem::path& path, size_t buffer_bytes)
    : path_(path.string()), buf_(buffer_bytes, '\0') {
  if (is_stdin_path(path)) {
    const int fd = ::dup(STDIN_FILENO);
    if (fd < 0)
      throw Error(std::string("cannot read standard input: ") + std::strerror(errno), {.file = path_});
    gz_ = gzdopen(fd, "rb");
    if (gz_ == nullptr) {
      ::close(fd);
      throw Error("cannot read standard input", {.file = path_});
    }
  } else {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec) throw Error("cannot open: " + ec.message(), {.file = path_});
    if (std::filesystem::is_directory(st)) throw Error("is a directory, expected a file", {.file = path_});
    // Pipes, FIFOs and character devices have no size; they are read like files.
    if (std::filesystem::is_regular_file(st)) file_size_ = std::filesystem::file_size(path, ec);
    if (ec) throw Error("cannot open: " + ec.message(), {.file = path_});
    gz_ = gzopen(path_.c_str(), "rb");
    if (gz_ == nullptr) throw Error("cannot open for reading", {.file = path_});
  }
  gzbuffer(gz_, 1 << 18);
}

LineReader::~LineReader() {
  if (gz_ != nullptr) gzclose(gz_);
}

uint64_t LineReader::bytes_read() const {
  if (gz_ == nullptr) return file_size_;
  z_off_t off = gzoffset(gz_);
  return off < 0 ? 0 : static_cast<uint64_t>(off);
}

bool LineReader::fill() {
  if (eof_) return false;
  int n = gzread(gz_, buf_.data(), static_cast<unsigned>(buf_.size()));
  if (n < 0) {
    int errnum = 0;
    const char* msg = gzerror(gz_, &errnum);
    throw Error(std::string("read error: ") + (msg ? msg : "unknown"), {.file = path_, .line = line_no_});
  }
  if (n == 0) {
    // gzread returns 0 on a truncated gzip stream too; tell that apart from a clean end.
    int errnum = 0;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) {
      throw Error(std::string("decompression error: ") + (msg ? msg : "unknown"),
                  {.file = path_, .line = line_no_ + 1});
    }
    eof_ = true;
    return false;
  }
  pos_ = 0;
  end_ = static_cast<size_t>(n);
  return true;
}

bool LineReader::next(std::string_view& line) {
  carry_.clear();
  for (;;) {
    if (pos_ >= end_ && !fill()) {
      if (carry_.empty()) return false;
      ++line_no_;
      if (!carry_.empty() && carry_.back() == '\r') carry_.pop_back();
      line = carry_;
      return true;
    }
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl == nullptr) {
      carry_.append(start, end_ - pos_);
      pos_ = end_;
      continue;
    }
    size_t len = static_cast<const char*>(nl) - start;
    ++line_no_;
    if (carry_.empty()) {
      pos_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      return true;
    }
    carry_.append(start, len);
    pos_ += len + 1;
    if (!carry_.empty() && carry_.back() == '\r') carry_.pop_back();
    line = carry_;
    return true;
  }
}

bool LineReader::next_raw(std::string& out) {
  bool any = false;
  for (;;) {
    if (pos_ >= end_ && !fill()) {
      if (any) ++line_no_;
      return any;
    }
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl == nullptr) {
      out.append(start, end_ - pos_);
      pos_ = end_;
      any = true;
      continue;
    }
    size_t len = static_cast<const char*>(nl) - start + 1;
    out.append(start, len);
    pos_ += len;
    ++line_no_;
    return true;
  }
}

std::string read_file(const std::filesystem::path& path) {
  LineReader in(path);
  std::string out;
  while (in.next_raw(out)) {
  }
  return out;
}

bool is_stdin_path(const std::filesystem::path& path) { return path.native() == "-"; }

bool is_stream_input(const std::filesystem::path& path) {
  if (is_stdin_path(path)) return true;
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec) return false;
  return std::filesystem::is_fifo(st) || std::filesystem::is_character_file(st) ||
         std::filesystem::is_socket(st);
}

}  // namespace um::util
