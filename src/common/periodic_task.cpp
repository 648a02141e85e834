#include "common/periodic_task.hpp"

#include <exception>
#include <utility>

#include "common/json_log.hpp"

namespace tradesphere::common {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> task)
    : name_(std::move(name)), interval_(interval), task_(std::move(task)), thread_([this] { loop(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      task_();
    } catch (const std::exception& e) {
      log(spdlog::level::err, "periodic_task_failed", {{"task", name_}, {"error", e.what()}});
    } catch (...) {
      log(spdlog::level::err, "periodic_task_failed", {{"task", name_}, {"error", "unknown"}});
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace tradesphere::common
