#include "domain/parallel.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tradesphere::domain {

std::size_t parallel_workers(std::size_t n) {
  if (n < 10000) return 1;
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
}

void parallel_ranges(std::size_t n, const std::function<void(std::size_t, std::size_t, std::size_t)>& fn) {
  const std::size_t workers = parallel_workers(n);
  std::exception_ptr first;
  std::mutex mutex;
  auto run = [&](std::size_t k) {
    try {
      fn(k, k * n / workers, (k + 1) * n / workers);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t k = 1; k < workers; ++k) threads.emplace_back(run, k);
  run(0);
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  parallel_ranges(n, [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) fn(i);
  });
}

}  // namespace tradesphere::domain
