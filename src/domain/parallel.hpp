// Data-parallel loops over an index range for the whole-company duplicate
// scan: contiguous ranges, one per worker (at most 4, the cores we have), the
// calling thread taking the first. Small ranges run on the caller alone. The
// first exception thrown by any range is rethrown to the caller after every
// worker has finished (a throw in a std::thread would otherwise terminate).
#pragma once

#include <cstddef>
#include <functional>

namespace tradesphere::domain {

// Workers parallel_ranges() uses for a range of n items (1 below 10,000).
std::size_t parallel_workers(std::size_t n);
// fn(k, from, to) for k < parallel_workers(n), covering [0, n); fn writes only
// to what range k owns.
void parallel_ranges(std::size_t n, const std::function<void(std::size_t, std::size_t, std::size_t)>& fn);
// fn(i) for every i < n.
void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);
// fn(i) for every i < n, each a large independent task (a few of them, each over a
// whole company): spread over the workers whatever n is, task i on worker i % workers.
void parallel_tasks(std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace tradesphere::domain
