// The HTTP worker pool's rules without a network: a tenant's cap on running
// tasks, round-robin between tenants, bounded queues, stop() finishing work.
#include "http/fair_scheduler.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <thread>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using tradesphere::http::Admission;
using tradesphere::http::FairScheduler;
using tradesphere::http::SchedulerLimits;

// Tasks block on it until open() (or the test times out).
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait_for(lock, 10s, [this] { return open_; });
    --waiting_;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiters(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

SchedulerLimits limits(int threads, int per_tenant, std::size_t queued = 100, std::size_t per_tenant_queued = 100) {
  SchedulerLimits l;
  l.threads = threads;
  l.running_per_tenant = per_tenant;
  l.queued = queued;
  l.queued_per_tenant = per_tenant_queued;
  return l;
}

TEST(FairScheduler, DefaultsLeaveAQuarterOfTheWorkersToOtherTenants) {
  EXPECT_EQ(SchedulerLimits::for_threads(8).running_per_tenant, 6);
  EXPECT_EQ(SchedulerLimits::for_threads(16).running_per_tenant, 12);
  EXPECT_EQ(SchedulerLimits::for_threads(1).running_per_tenant, 1);
  EXPECT_EQ(SchedulerLimits::for_threads(0).threads, 1);
}

TEST(FairScheduler, OneTenantNeverRunsMoreThanItsCapAndOthersStillGetWorkers) {
  Gate gate;
  std::atomic<int> running_a{0};
  std::atomic<int> max_a{0};
  std::atomic<bool> b_ran{false};
  {
    FairScheduler pool(limits(4, 2));
    for (int i = 0; i < 10; ++i) {
      ASSERT_EQ(pool.submit("a", [&] {
        const int now = ++running_a;
        int seen = max_a.load();
        while (now > seen && !max_a.compare_exchange_weak(seen, now)) {
        }
        gate.wait();
        --running_a;
      }),
                Admission::kAccepted);
    }
    ASSERT_TRUE(gate.wait_for_waiters(2));
    // Tenant a is at its cap with 8 tasks queued; b is served by a free worker at once.
    ASSERT_EQ(pool.submit("b", [&] { b_ran = true; }), Admission::kAccepted);
    for (int i = 0; i < 1000 && !b_ran; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(b_ran) << "tenant b waited behind tenant a's burst";
    EXPECT_EQ(pool.running(), 2);
    EXPECT_EQ(pool.queued(), 8u);
    gate.open();
  }  // the destructor runs what is queued
  EXPECT_EQ(max_a.load(), 2);
  EXPECT_EQ(running_a.load(), 0);
}

// Workers idle behind a capped tenant while stop() drains its queue: when the
// last task is taken they must all wake up and exit (this hung before).
TEST(FairScheduler, StopReturnsWhenIdleWorkersWaitedBehindACappedTenant) {
  Gate gate;
  std::atomic<int> done{0};
  FairScheduler pool(limits(3, 1));
  pool.submit("a", [&] { gate.wait(); ++done; });
  ASSERT_TRUE(gate.wait_for_waiters(1));
  pool.submit("a", [&] { ++done; });  // queued: a is at its cap, two workers idle
  auto stopped = std::async(std::launch::async, [&] { pool.stop(); });
  // stop() has begun once submits are refused.
  for (int i = 0; i < 1000 && pool.submit("probe", [] {}) != Admission::kStopped; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(20ms);  // let the idle workers re-check and sleep again
  gate.open();
  if (stopped.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "stop() did not return: an idle worker was never woken";
    std::_Exit(1);  // the pool's threads cannot be joined; end the test binary
  }
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(FairScheduler, TenantsAreServedInTurn) {
  Gate gate;
  std::mutex mutex;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    return [&, name] {
      std::lock_guard lock(mutex);
      order.push_back(name);
    };
  };
  {
    FairScheduler pool(limits(1, 1));
    pool.submit("a", [&] { gate.wait(); });
    ASSERT_TRUE(gate.wait_for_waiters(1));
    pool.submit("a", record("a2"));
    pool.submit("a", record("a3"));
    pool.submit("a", record("a4"));
    pool.submit("b", record("b1"));
    pool.submit("c", record("c1"));
    gate.open();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a2", "b1", "c1", "a3", "a4"}));
}

TEST(FairScheduler, FullQueuesAreRefusedAtOnce) {
  Gate gate;
  FairScheduler pool(limits(1, 1, /*queued=*/3, /*per_tenant_queued=*/2));
  pool.submit("a", [&] { gate.wait(); });
  ASSERT_TRUE(gate.wait_for_waiters(1));
  EXPECT_EQ(pool.submit("a", [] {}), Admission::kAccepted);
  EXPECT_EQ(pool.submit("a", [] {}), Admission::kAccepted);
  EXPECT_EQ(pool.submit("a", [] {}), Admission::kTenantQueueFull);
  EXPECT_EQ(pool.submit("b", [] {}), Admission::kAccepted);
  EXPECT_EQ(pool.submit("c", [] {}), Admission::kQueueFull);
  gate.open();
  pool.stop();
  EXPECT_EQ(pool.queued(), 0u);
  EXPECT_EQ(pool.submit("a", [] {}), Admission::kStopped);
}

TEST(FairScheduler, AThrowingTaskDoesNotTakeItsWorkerDown) {
  std::atomic<int> done{0};
  {
    FairScheduler pool(limits(1, 1));
    pool.submit("a", [] { throw std::runtime_error("boom"); });
    pool.submit("a", [&] { ++done; });
  }
  EXPECT_EQ(done.load(), 1);
}

}  // namespace
