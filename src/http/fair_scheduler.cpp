#include "http/fair_scheduler.hpp"

#include <algorithm>
#include <exception>

#include "common/json_log.hpp"

namespace tradesphere::http {

SchedulerLimits SchedulerLimits::for_threads(int threads) {
  SchedulerLimits l;
  l.threads = std::max(1, threads);
  l.running_per_tenant = std::max(1, l.threads - l.threads / 4);
  l.queued = static_cast<std::size_t>(l.threads) * 64;
  l.queued_per_tenant = l.queued / 2;
  return l;
}

const char* to_string(Admission admission) noexcept {
  switch (admission) {
    case Admission::kAccepted: return "accepted";
    case Admission::kQueueFull: return "queue_full";
    case Admission::kTenantQueueFull: return "tenant_queue_full";
    case Admission::kStopped: return "stopping";
  }
  return "?";
}

FairScheduler::FairScheduler(SchedulerLimits limits) : limits_(limits) {
  threads_.reserve(static_cast<std::size_t>(limits_.threads));
  for (int i = 0; i < limits_.threads; ++i) threads_.emplace_back([this] { work(); });
}

FairScheduler::~FairScheduler() { stop(); }

Admission FairScheduler::submit(const std::string& tenant, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Admission::kStopped;
    if (queued_ >= limits_.queued) return Admission::kQueueFull;
    auto& t = tenants_[tenant];
    if (t.tasks.size() >= limits_.queued_per_tenant) return Admission::kTenantQueueFull;
    if (t.tasks.empty()) ready_.push_back(tenant);
    t.tasks.push_back(std::move(task));
    ++queued_;
  }
  wake_.notify_one();
  return Admission::kAccepted;
}

void FairScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t FairScheduler::queued() const {
  std::lock_guard lock(mutex_);
  return queued_;
}

int FairScheduler::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::map<std::string, FairScheduler::Tenant>::iterator FairScheduler::next_runnable() {
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    auto t = tenants_.find(*it);
    if (t->second.running < limits_.running_per_tenant) {
      ready_.erase(it);
      return t;
    }
  }
  return tenants_.end();
}

void FairScheduler::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    auto tenant = tenants_.end();
    wake_.wait(lock, [&] {
      tenant = next_runnable();
      return tenant != tenants_.end() || (stopping_ && queued_ == 0);
    });
    if (tenant == tenants_.end()) return;  // stopping, nothing left
    auto task = std::move(tenant->second.tasks.front());
    tenant->second.tasks.pop_front();
    --queued_;
    // Draining for stop(): idle workers went back to sleep while a capped
    // tenant still had queued tasks; now that nothing is queued they must wake
    // to see the exit condition, or stop() joins them forever.
    if (stopping_ && queued_ == 0) wake_.notify_all();
    ++tenant->second.running;
    ++running_;
    // Still has work: back of the line, behind the other tenants.
    if (!tenant->second.tasks.empty()) ready_.push_back(tenant->first);
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      common::log(spdlog::level::err, "worker_task_failed", {{"error", e.what()}});
    } catch (...) {
      common::log(spdlog::level::err, "worker_task_failed", {{"error", "unknown"}});
    }
    task = nullptr;  // release what the task captured before taking the lock
    lock.lock();
    --tenant->second.running;
    --running_;
    // A tenant that hit its cap may be runnable again: one waiting worker checks.
    if (!ready_.empty()) wake_.notify_one();
    if (tenant->second.tasks.empty() && tenant->second.running == 0) tenants_.erase(tenant);
  }
}

}  // namespace tradesphere::http
