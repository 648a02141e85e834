// CustomerRepository: the SQL of the customers table (and the customer_metrics /
// customer_events / customer_merge_log reads that belong to a customer),
// company-scoped in SQL even though row-level security enforces the tenant too.
// Query code only: every method runs in the caller's transaction (a Tx from
// db::Database::transact). Rules, roles, input validation, metrics and logs belong
// to the services that own the transactions (services::CustomerCrudService,
// services::CustomerLifecycleService, ...).
//
// Soft-deleted and merged customers never appear in lists, search or lookups;
// only find_customer_with_metrics with include_deleted = true returns them.
//
//   db::CustomerRepository customers;
//   auto page = db.transact(ctx, "get_customers", [&](db::Tx& tx) {
//     return customers.get_customer_rows(tx, ctx.company_id, filters);  // one statement
//   }, db::TxMode::kReadOnly);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/customer_row_view.hpp"
#include "domain/customer.hpp"
#include "domain/customer_filters.hpp"
#include "domain/customer_pages.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/customer_pages.hpp), by their names in this layer.
using domain::BulkStageResult;
using domain::CustomerPage;
using domain::kMaxBulkIds;
using domain::kMaxSearchLimit;
using domain::kMaxTimelineLimit;
using domain::SearchHit;
using domain::TimelineEntry;
using domain::TimelinePage;

class CustomerRepository {
 public:
  // A page of active customers with their metrics, in ONE statement: filters (already
  // validated: domain::validate_customer_filters), keyset cursor (ValidationError when
  // it is not one of this list), sort in either direction; the total when asked. The
  // rows are views into the database result (the page owns it), without building
  // domain objects: for writers that render them straight away (GET /v1/customers).
  domain::CustomerRowsPage get_customer_rows(Tx& tx, const std::string& company_id,
                                             const domain::CustomerFilters& filters);

  // nullopt unless the customer is active (or include_deleted: any status). `id` is a uuid.
  std::optional<domain::CustomerWithMetrics> find_customer_with_metrics(Tx& tx, const std::string& company_id,
                                                                        const std::string& id, bool include_deleted);
  // The oldest active customer whose email equals `email` after trim + lower-case.
  std::optional<domain::Customer> find_by_email(Tx& tx, const std::string& company_id, const std::string& email);
  // Name (typo tolerant, pg_trgm similarity), email and phone digits (partial), ranked
  // best first. `query` is trimmed and not blank, limit 1..kMaxSearchLimit.
  std::vector<SearchHit> search_customers(Tx& tx, const std::string& company_id, const std::string& query, int limit);

  // Inserts a valid customer (tags normalized, attributes an object). EmailInUseError
  // when an active customer holds its normalized email.
  domain::Customer insert_customer(Tx& tx, const std::string& company_id, const domain::NewCustomer& customer);
  // Applies a valid, non-empty patch to an active customer. VersionConflictError when
  // expected_version is given and stale; NotFoundError for a customer that is not active.
  domain::Customer update_customer(Tx& tx, const std::string& company_id, const std::string& id,
                                   const domain::CustomerPatch& patch, std::optional<int> expected_version);
  // Sets status 'deleted' (the database sets deleted_at). Never hard-deletes.
  domain::Customer soft_delete_customer(Tx& tx, const std::string& company_id, const std::string& id,
                                        std::optional<int> expected_version);
  // A soft-deleted (not merged) customer back to active; NotFoundError otherwise,
  // ConflictError when it is active.
  domain::Customer restore_customer(Tx& tx, const std::string& company_id, const std::string& id);

  // The active customer, locked FOR UPDATE; nullopt when not active.
  std::optional<domain::Customer> lock_active_customer(Tx& tx, const std::string& company_id, const std::string& id);
  // Replaces the tags of an active customer (normalized, at most domain::kMaxTags).
  domain::Customer set_tags(Tx& tx, const std::string& company_id, const std::string& id,
                            const std::vector<std::string>& tags);
  // One set-based UPDATE for up to kMaxBulkIds ids (duplicates ignored).
  BulkStageResult bulk_update_lifecycle_stage(Tx& tx, const std::string& company_id,
                                              const std::vector<std::string>& ids, domain::LifecycleStage stage);
  // True when the customer exists and is active (or include_deleted: any status).
  bool customer_exists(Tx& tx, const std::string& company_id, const std::string& id, bool include_deleted);
  // Events, conversations and merges of one customer, newest first, keyset paged
  // (limit 1..kMaxTimelineLimit; ValidationError for a cursor not of this timeline).
  // Does not check that the customer exists (customer_exists).
  TimelinePage get_customer_timeline(Tx& tx, const std::string& company_id, const std::string& id, int limit,
                                     const std::optional<std::string>& cursor);
};

// One normalized email, one active customer: takes the chat sync's lock of the email's
// bucket (migration 0050; held to the end of the transaction) and returns the active
// customer other than `self` that holds the email, if any.
std::optional<std::string> lock_email_and_find_holder(Tx& tx, const std::string& company_id, const std::string& email,
                                                      const std::optional<std::string>& self);

// Takes the chat sync's locks of everything it reads as these customers' (their sessions
// and keys, and those of customers merged into them; migration 0050). Merges, their undo
// and soft deletes call it before they lock the customers. `ids` are uuids.
void lock_chat_sync_of_customers(Tx& tx, const std::string& company_id, const std::vector<std::string>& ids);

}  // namespace tradesphere::db
