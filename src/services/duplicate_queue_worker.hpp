// Scores the maintained duplicate queue in the background of `serve` (issue 13):
// every `interval`, each company with queued customers has them scored with its
// stored model (CustomerMergeService::process_duplicate_queue), so the pairs are
// current before anyone reads them. Reads still score what is left (read-your-writes).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "services/customer_merge_service.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

class DuplicateQueueWorker {
 public:
  // `groups`: the request path's cache of duplicate groups (CustomerMergeService::group_cache());
  // after scoring a company, the worker regroups the entries readers hold, so the
  // next GET /v1/duplicates finds them current.
  DuplicateQueueWorker(db::Database& db, std::chrono::milliseconds interval = std::chrono::seconds(2),
                       std::shared_ptr<DuplicateGroupCache> groups = nullptr);
  ~DuplicateQueueWorker();  // stops and joins
  DuplicateQueueWorker(const DuplicateQueueWorker&) = delete;
  DuplicateQueueWorker& operator=(const DuplicateQueueWorker&) = delete;

  // One pass over every company with queued customers; returns how many customers were scored.
  std::size_t run_once();

 private:
  void loop();
  db::Database& db_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<DuplicateGroupCache> groups_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tradesphere::services
