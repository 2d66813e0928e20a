#include "util/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace um::util {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path.string()) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot open for reading: ") + std::strerror(errno), {.file = path_});
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) {
    const int err = errno;
    ::close(fd);
    throw Error(std::string("cannot determine the size: ") + std::strerror(err), {.file = path_});
  }
  size_ = static_cast<uint64_t>(end);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(std::string("cannot map: ") + std::strerror(err), {.file = path_});
    }
    data_ = static_cast<const char*>(p);
  }
  ::close(fd);  // the mapping keeps the file open
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

void MappedFile::release(uint64_t begin, uint64_t end) {
  if (data_ == nullptr) return;
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  end = std::min(end, size_);
  const uint64_t first = (begin + page - 1) / page * page;
  const uint64_t last = end / page * page;
  if (last > first) ::madvise(const_cast<char*>(data_) + first, last - first, MADV_DONTNEED);
}

}  // namespace um::util
