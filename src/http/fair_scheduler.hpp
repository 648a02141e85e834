// The worker pool behind the HTTP server: a bounded queue per tenant, served
// round-robin, with a cap on how many of one tenant's requests run at once.
// One company's burst therefore waits in its own queue instead of taking every
// worker (and every database connection: the pool has one per worker), and a
// full queue is refused at once (the server answers 503 + Retry-After) instead
// of growing without bound. Pure threading logic, tested without a network.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tradesphere::http {

struct SchedulerLimits {
  int threads = 8;
  int running_per_tenant = 6;            // at most this many of one tenant's tasks run at once
  std::size_t queued = 512;              // all tenants together
  std::size_t queued_per_tenant = 256;
  // Defaults for `threads` workers: a tenant may use 3/4 of them (at least 1).
  static SchedulerLimits for_threads(int threads);
};

enum class Admission { kAccepted, kQueueFull, kTenantQueueFull, kStopped };
const char* to_string(Admission admission) noexcept;

class FairScheduler {
 public:
  explicit FairScheduler(SchedulerLimits limits);
  ~FairScheduler();  // stop()
  FairScheduler(const FairScheduler&) = delete;
  FairScheduler& operator=(const FairScheduler&) = delete;

  // Queues `task` under `tenant` ("" = no tenant). Never blocks. A task that
  // throws is logged and forgotten.
  Admission submit(const std::string& tenant, std::function<void()> task);
  // Runs what is queued, then joins the workers. Later submits are refused.
  void stop();

  std::size_t queued() const;
  int running() const;

 private:
  struct Tenant {
    std::deque<std::function<void()>> tasks;
    int running = 0;
  };
  void work();
  // The next tenant in round-robin order with a task and a free slot; nullptr if none.
  std::map<std::string, Tenant>::iterator next_runnable();

  const SchedulerLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Tenant> tenants_;
  std::deque<std::string> ready_;  // tenants with queued tasks, each once, in service order
  std::size_t queued_ = 0;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tradesphere::http
