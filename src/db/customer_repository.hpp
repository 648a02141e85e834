// CustomerRepository: every read and write of the customers table (and the
// customer_metrics / customer_events / customer_merge_log reads that belong to
// a customer), company-scoped in SQL even though row-level security enforces
// the tenant too. Each public method is one unit of work
// (db::Database::transact), retried on serialization failure / deadlock.
//
// Soft-deleted and merged customers never appear in lists, search or lookups;
// only get_customer_by_id / get_customer_with_metrics with include_deleted = true
// return them.
//
//   db::Database db(options);
//   db::CustomerRepository repo(db);
//   auto page = repo.get_customers(ctx, filters);  // one statement + the settings statement
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/customer_row_view.hpp"
#include "domain/customer.hpp"
#include "domain/customer_filters.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {

class Database;

struct CustomerPage {
  std::vector<domain::CustomerWithMetrics> items;
  std::optional<std::string> next_cursor;  // absent on the last page
  std::optional<std::int64_t> total;       // only when filters.include_total
};

struct SearchHit {
  domain::CustomerWithMetrics customer;
  double score = 0;                // 1 = exact, lower = partial / fuzzy
  std::vector<std::string> matched;  // "name", "email", "phone"
};

struct BulkStageResult {
  std::int64_t updated = 0;              // customers whose stage changed
  std::int64_t unchanged = 0;            // found, already in that stage
  std::vector<std::string> not_found;    // ids not found (other company, deleted, merged, unknown, not a uuid)
};

// One entry of the customer timeline: an event, a conversation or a merge.
struct TimelineEntry {
  std::string kind;  // "event" | "conversation" | "merge"
  std::string id;    // events: event id; conversations: session key; merges: merge log id
  std::string type;  // event_type; "conversation"; "merged_into" | "merged_from"
  std::string at;    // ISO-8601 (conversation: time of its last message)
  nlohmann::json data = nlohmann::json::object();

  bool operator==(const TimelineEntry&) const = default;
};

struct TimelinePage {
  std::vector<TimelineEntry> items;        // newest first
  std::optional<std::string> next_cursor;  // opaque
};

inline constexpr int kMaxSearchLimit = 100;
inline constexpr int kMaxTimelineLimit = 500;
inline constexpr std::size_t kMaxBulkIds = 10000;

class CustomerRepository {
 public:
  explicit CustomerRepository(Database& db);

  // A page of active customers with their metrics, in ONE statement (plus the
  // transaction's settings statement): filters, keyset cursor, sort in either
  // direction; total as a window count when asked. Validates the filters.
  CustomerPage get_customers(const domain::RequestContext& ctx, const domain::CustomerFilters& filters);
  // The same page (same statement, cursor and total) as views into the database
  // result, without building domain objects: for writers that render the rows
  // straight away (GET /v1/customers). get_customers is this plus to_customer_with_metrics.
  CustomerRowsPage get_customer_rows(const domain::RequestContext& ctx, const domain::CustomerFilters& filters);

  // NotFoundError unless the customer is active (or include_deleted: any status).
  domain::Customer get_customer_by_id(const domain::RequestContext& ctx, const std::string& id,
                                      bool include_deleted = false);
  domain::CustomerWithMetrics get_customer_with_metrics(const domain::RequestContext& ctx, const std::string& id,
                                                        bool include_deleted = false);
  // Active customers whose email equals `email` after trim + lower-case (oldest first).
  std::optional<domain::Customer> find_by_email(const domain::RequestContext& ctx, const std::string& email);
  // Name (typo tolerant, pg_trgm similarity), email and phone digits (partial), ranked best first.
  // ValidationError for a blank query or one longer than 200 characters, or limit outside 1..100.
  std::vector<SearchHit> search_customers(const domain::RequestContext& ctx, const std::string& query,
                                          int limit = 20);

  // Writes need role agent or admin (PermissionError otherwise).
  domain::Customer create_customer(const domain::RequestContext& ctx, const domain::NewCustomer& customer);
  // VersionConflictError when expected_version is given and stale; NotFoundError for a
  // customer that is not active; ValidationError for an empty patch.
  domain::Customer update_customer(const domain::RequestContext& ctx, const std::string& id,
                                   const domain::CustomerPatch& patch, std::optional<int> expected_version);
  // Sets status 'deleted' (the database sets deleted_at). Never hard-deletes.
  domain::Customer soft_delete_customer(const domain::RequestContext& ctx, const std::string& id,
                                        std::optional<int> expected_version = std::nullopt);
  // A soft-deleted (not merged) customer back to active; NotFoundError otherwise.
  domain::Customer restore_customer(const domain::RequestContext& ctx, const std::string& id);

  // Lifecycle (used by CustomerLifecycleService, which checks the rules).
  domain::Customer set_lifecycle_stage(const domain::RequestContext& ctx, const std::string& id,
                                       domain::LifecycleStage stage, std::optional<int> expected_version);
  // tags already normalized; add keeps the existing order and appends new ones.
  domain::Customer add_tags(const domain::RequestContext& ctx, const std::string& id,
                            const std::vector<std::string>& tags);
  domain::Customer remove_tags(const domain::RequestContext& ctx, const std::string& id,
                               const std::vector<std::string>& tags);
  // One set-based UPDATE for up to kMaxBulkIds ids (duplicates ignored).
  BulkStageResult bulk_update_lifecycle_stage(const domain::RequestContext& ctx, const std::vector<std::string>& ids,
                                              domain::LifecycleStage stage);
  // Events, conversations and merges of one customer (active, or any status with
  // include_deleted), newest first, keyset paged.
  TimelinePage get_customer_timeline(const domain::RequestContext& ctx, const std::string& id, int limit = 50,
                                     const std::optional<std::string>& cursor = std::nullopt,
                                     bool include_deleted = false);

 private:
  Database& db_;
};

}  // namespace tradesphere::db
