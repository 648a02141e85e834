// The library's business gauges for /metrics (issue 7): the lifecycle stage
// distribution and the duplicate rate of every company, computed by one
// SECURITY DEFINER function (migration 0013, customer_gauges(): aggregate counts
// only, one statement per company) and cached for `ttl` (5 s by default), so a
// scrape costs at most one database round trip every few seconds however often
// /metrics is polled. Rendered apart from the registry so a company or stage that
// drops to nothing leaves no stale series behind.
//
//   tradesphere_customers_active{company_id,lifecycle_stage}   active customers (all four stages per company)
//   tradesphere_customers_with_duplicates{company_id}          active customers sharing an email or phone
//                                                              key with another active customer
//   tradesphere_customer_duplicate_rate{company_id}            with_duplicates / active (0..1)
//   tradesphere_chat_sync_failures_open{company_id,reason,sqlstate}
//                                                              chat rows stored but not linked, per cause
//                                                              (migration 0018, chat_sync_failure_gauges())
//
// Only companies with at least one active customer appear. When the database
// cannot answer, the last good values are served (and the failure is logged and
// counted in tradesphere_business_gauges_failures_total); the next try waits for
// the next period.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/overview.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

class BusinessGauges {
 public:
  static constexpr std::chrono::milliseconds kDefaultTtl{5000};

  explicit BusinessGauges(db::Database& db, std::chrono::milliseconds ttl = kDefaultTtl) : db_(db), ttl_(ttl) {}

  // Prometheus text (HELP/TYPE and series) of the gauges, from the cache when it is
  // younger than ttl. Never throws for a database failure.
  std::string render_prometheus();

  // The rows behind the gauges (refreshed when stale); for tests and tools.
  std::vector<domain::CustomerGaugeRow> snapshot();
  // The open chat sync failures behind tradesphere_chat_sync_failures_open.
  std::vector<domain::ChatSyncFailureGaugeRow> failures_snapshot();

 private:
  void refresh_if_stale();  // under mutex_

  db::Database& db_;
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_attempt_;
  std::vector<domain::CustomerGaugeRow> rows_;
  std::vector<domain::ChatSyncFailureGaugeRow> failure_rows_;
};

}  // namespace tradesphere::services
