#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "util/error.h"

namespace um::util {

AtomicWriter::AtomicWriter(std::filesystem::path target) : target_(std::move(target)) {
  if (target_.has_parent_path()) std::filesystem::create_directories(target_.parent_path());
  std::random_device rd;
  temp_ = target_;
  temp_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(std::string("cannot create: ") + std::strerror(errno), {.file = temp_.string()});
  buf_.reserve(1 << 20);
}

AtomicWriter::~AtomicWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void AtomicWriter::write(std::string_view bytes) {
  buf_.append(bytes);
  bytes_ += bytes.size();
  if (buf_.size() >= (1 << 20)) flush_buffer();
}

void AtomicWriter::write_parts(std::span<const std::string_view> parts) {
  flush_buffer();
  std::vector<iovec> iov;
  iov.reserve(parts.size());
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    iov.push_back({const_cast<char*>(p.data()), p.size()});
    bytes_ += p.size();
  }
  constexpr size_t kMaxIov = 1024;  // IOV_MAX on Linux
  size_t i = 0;
  while (i < iov.size()) {
    const ssize_t n = ::writev(fd_, iov.data() + i, static_cast<int>(std::min(kMaxIov, iov.size() - i)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("write failed: ") + std::strerror(errno), {.file = temp_.string()});
    }
    auto left = static_cast<size_t>(n);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (left > 0) {  // a short write inside part i
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
}

void AtomicWriter::flush_buffer() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("write failed: ") + std::strerror(errno), {.file = temp_.string()});
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

void AtomicWriter::commit() {
  if (committed_) return;
  flush_buffer();
  if (::fsync(fd_) != 0)
    throw Error(std::string("fsync failed: ") + std::strerror(errno), {.file = temp_.string()});
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::rename(temp_, target_, ec);
  if (ec) throw Error("rename failed: " + ec.message(), {.file = target_.string()});
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  AtomicWriter w(path);
  w.write(content);
  w.commit();
}

}  // namespace um::util
