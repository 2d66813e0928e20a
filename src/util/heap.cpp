#include "util/heap.h"

#include <cstdlib>
#include <initializer_list>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace um::util {

void keep_freed_heap() {
#if defined(__GLIBC__)
  static const bool once = [] {
    for (const char* v :
         {"GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"})
      if (std::getenv(v) != nullptr) return false;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)once;
#endif
}

}  // namespace um::util
