#include "util/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "util/error.h"
#include "util/line_reader.h"

namespace um::util {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path.string()) {
  const bool stdin_input = is_stdin_path(path);
  const int fd = stdin_input ? ::dup(STDIN_FILENO) : ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot open for reading: ") + std::strerror(errno), {.file = path_});
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(std::string("cannot stat: ") + std::strerror(err), {.file = path_});
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error("is a directory, expected a file", {.file = path_});
  }
  if (!S_ISREG(st.st_mode)) {
    // A pipe, FIFO, socket or terminal: read it once, front to back.
    std::array<char, 1 << 16> buf{};
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        throw Error(std::string("read error: ") + std::strerror(err), {.file = path_});
      }
      read_.append(buf.data(), static_cast<size_t>(n));
    }
    ::close(fd);
    data_ = read_.data();
    size_ = read_.size();
    return;
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(std::string("cannot map: ") + std::strerror(err), {.file = path_});
    }
    data_ = static_cast<const char*>(p);
    mapped_ = true;
  }
  ::close(fd);  // the mapping keeps the file open
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

void MappedFile::release(uint64_t begin, uint64_t end) {
  if (!mapped_) return;
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  end = std::min(end, size_);
  const uint64_t first = (begin + page - 1) / page * page;
  const uint64_t last = end / page * page;
  if (last > first) ::madvise(const_cast<char*>(data_) + first, last - first, MADV_DONTNEED);
}

}  // namespace um::util
