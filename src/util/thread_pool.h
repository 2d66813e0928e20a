#pragma once
// Static-partition parallel loops. Work is split by index, so results written to per-index slots
// are identical for any thread count.
#include <cstddef>
#include <functional>

namespace um::util {

// Number of threads to use when the user passes 0: hardware concurrency (at least 1).
unsigned default_threads();

// Calls fn(i) for i in [0, n) on up to `threads` threads (0 = default). Chunks are claimed
// dynamically for load balance; exceptions are rethrown in the caller (the first one wins).
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn);

}  // namespace um::util
