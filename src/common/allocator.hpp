// Process-wide allocator settings for the long-running server (tradesphere serve).
#pragma once

namespace tradesphere::common {

// glibc's allocator gives a freed block over its mmap threshold (128 KB at start, raised
// only as far as the largest block freed so far) back to the kernel, and trims a free
// heap top over twice that. A 1000-row list page allocates ~2 MB per request (the
// database result, the row views, the JSON body), so every request faulted those pages
// in again: ~1/3 of the server's CPU per page (docs/performance.md, "List 1000 over
// HTTP: where the time went"). Blocks up to 8 MB now stay on the heap and a free heap
// top is trimmed only over 32 MB, so the next request reuses them (RSS +4 MB measured).
// No-op outside glibc. Call once, before the threads start.
void keep_freed_memory_for_reuse();

}  // namespace tradesphere::common
