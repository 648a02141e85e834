// Data-parallel loops over an index range for the whole-company duplicate
// scan: contiguous ranges, one per worker (at most 4, the cores we have), the
// calling thread taking the first. Small ranges run on the caller alone. The
// first exception thrown by any range is rethrown to the caller after every
// worker has finished (a throw in a std::thread would otherwise terminate).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <vector>

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

// std::sort of [first, last) on the workers: each sorts its range, then ranges
// are merged pairwise (the blocking stage of a 1M-customer scan sorts ~40M
// candidate pairs). Equal elements must be interchangeable (the result equals
// std::sort's only then): plain keys, pairs of them.
template <class It, class Less = std::less<>>
void parallel_sort(It first, It last, Less less = {}) {
  const auto n = static_cast<std::size_t>(std::distance(first, last));
  const std::size_t workers = parallel_workers(n);
  if (workers == 1 || n < 100000) {
    std::sort(first, last, less);
    return;
  }
  auto at = [&](std::size_t k) { return first + static_cast<std::ptrdiff_t>(k * n / workers); };  // parallel_ranges' bounds
  parallel_ranges(n, [&](std::size_t, std::size_t from, std::size_t to) {
    std::sort(first + static_cast<std::ptrdiff_t>(from), first + static_cast<std::ptrdiff_t>(to), less);
  });
  for (std::size_t width = 1; width < workers; width *= 2) {
    std::vector<std::size_t> starts;
    for (std::size_t s = 0; s + width < workers; s += 2 * width) starts.push_back(s);
    parallel_tasks(starts.size(), [&](std::size_t i) {
      const std::size_t s = starts[i];
      std::inplace_merge(at(s), at(s + width), at(std::min(s + 2 * width, workers)), less);
    });
  }
}

}  // namespace tradesphere::domain
