#include "services/duplicate_queue_worker.hpp"

#include "common/json_log.hpp"
#include "db/database.hpp"
#include "db/duplicate_repository.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::services {

DuplicateQueueWorker::DuplicateQueueWorker(db::Database& db, std::chrono::milliseconds interval,
                                           std::shared_ptr<DuplicateGroupCache> groups)
    : db_(db),
      interval_(interval),
      groups_(groups ? std::move(groups) : std::make_shared<DuplicateGroupCache>()),
      thread_([this] { loop(); }) {}

DuplicateQueueWorker::~DuplicateQueueWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::size_t DuplicateQueueWorker::run_once() {
  // the company list is the only cross-tenant read: ids and counts, no customer data
  const domain::RequestContext system{"", "duplicate-queue", domain::Role::kAdmin, ""};
  auto companies = db_.transact(
      system, "duplicate_queue_companies", [](db::Tx& tx) { return db::duplicate_queue_companies(tx); },
      db::TxMode::kReadOnly);
  CustomerMergeService merges(db_, groups_);
  std::size_t scored = 0;
  for (const auto& [company, queued] : companies) {
    const domain::RequestContext ctx{company, "duplicate-queue", domain::Role::kAdmin, ""};
    // a bounded slice per company per pass (fairness), one transaction each: 100
    // customers at ~150 ms of candidate search each keeps a transaction short
    std::size_t company_scored = 0;
    for (int slice = 0; slice < 5; ++slice) {
      const auto n = merges.process_duplicate_queue(ctx, 100);
      company_scored += n;
      if (n < 100) break;
    }
    scored += company_scored;
    // regroup what readers hold, so their next page is served from memory
    if (company_scored > 0) {
      for (double min_score : groups_->min_scores_of(company)) merges.duplicate_groups(ctx, min_score, 0);
    }
    std::lock_guard lock(mutex_);
    if (stopping_) break;
  }
  return scored;
}

void DuplicateQueueWorker::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      if (auto n = run_once(); n > 0) common::log(spdlog::level::info, "duplicate_queue_scored", {{"customers", n}});
    } catch (const std::exception& e) {
      common::log(spdlog::level::warn, "duplicate_queue_failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace tradesphere::services
