#include "domain/parallel.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace tradesphere::domain {

std::size_t parallel_workers(std::size_t n) {
  if (n < 10000) return 1;
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
}

namespace {
void run_on_workers(std::size_t workers, const std::function<void(std::size_t, std::size_t)>& fn) {
  std::exception_ptr first;
  std::mutex mutex;
  auto run = [&](std::size_t k) {
    try {
      fn(k, workers);
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
}  // namespace

void parallel_ranges(std::size_t n, const std::function<void(std::size_t, std::size_t, std::size_t)>& fn) {
  run_on_workers(parallel_workers(n),
                 [&](std::size_t k, std::size_t workers) { fn(k, k * n / workers, (k + 1) * n / workers); });
}

void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  parallel_ranges(n, [&](std::size_t, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) fn(i);
  });
}

void parallel_tasks(std::size_t n, const std::function<void(std::size_t)>& fn) {
  const std::size_t workers = std::min(n, parallel_workers(std::numeric_limits<std::size_t>::max()));
  run_on_workers(std::max<std::size_t>(workers, 1), [&](std::size_t k, std::size_t w) {
    for (std::size_t i = k; i < n; i += w) fn(i);
  });
}

}  // namespace tradesphere::domain
