#pragma once
// Process-wide glibc heap setting for the tensor workloads (inference forward passes, training steps).

namespace um::util {

// glibc gives the free top of the heap back to the kernel once it exceeds the trim threshold
// (dynamic: twice the largest freed mmapped block) and serves blocks above the mmap threshold with
// fresh mappings. A forward pass or training step frees all its activations at the end, so every
// step shrank the heap and faulted the same pages in again: the tiny model's training step spent
// 15-20 % of its time in page faults and brk, and scoring 20 rationales on the 0.5B shape 15 % (a
// third of the batch's time in the kernel). From the first call on, free memory up to 256 MiB stays
// in the heap; blocks of 32 MiB and more (glibc's upper bound for its dynamic mmap threshold) are
// still mmapped and returned when freed. Idempotent; a no-op without glibc and when the environment
// sets GLIBC_TUNABLES or MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ / MALLOC_TOP_PAD_ (the
// user's choice wins).
void keep_freed_heap();

}  // namespace um::util
