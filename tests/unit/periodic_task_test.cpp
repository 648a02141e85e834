// common::PeriodicTask: runs at once, again every interval, survives a throwing
// run, and its destructor returns without waiting for the interval.
#include "common/periodic_task.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using tradesphere::common::PeriodicTask;

bool eventually(const std::atomic<int>& n, int at_least) {
  for (int i = 0; i < 10000 && n.load() < at_least; ++i) std::this_thread::sleep_for(1ms);
  return n.load() >= at_least;
}

TEST(PeriodicTask, RunsAtOnceAndThenEveryInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task("count", 1ms, [&] { ++runs; });
  EXPECT_TRUE(eventually(runs, 3));
}

TEST(PeriodicTask, AThrowingRunIsRetriedAtTheNextInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task("throws", 1ms, [&] {
    ++runs;
    throw std::runtime_error("boom");
  });
  EXPECT_TRUE(eventually(runs, 2));
}

TEST(PeriodicTask, StoppingDoesNotWaitForTheInterval) {
  std::atomic<int> runs{0};
  {
    PeriodicTask task("hourly", std::chrono::hours(1), [&] { ++runs; });
    ASSERT_TRUE(eventually(runs, 1));
  }  // would block for an hour if the destructor waited for the interval (ctest's timeout fails it)
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
