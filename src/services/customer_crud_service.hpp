// CustomerCrudService: reading and writing customer records — the list, one
// customer, search, create, update, soft delete, restore. Each call is one
// transaction (db::Database::transact, retried on serialization failure /
// deadlock) around db::CustomerRepository's queries; this class holds the rules:
// the writer-role check (PermissionError for viewers), input validation, the
// created-customers metric and log line.
//
// Soft-deleted and merged customers never appear in lists, search or lookups;
// only get_customer_by_id / get_customer_with_metrics with include_deleted = true
// return them.
//
//   services::CustomerCrudService customers(database);
//   auto page = customers.get_customers(ctx, filters);  // one statement + the settings statement
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/customer_repository.hpp"
#include "domain/customer.hpp"
#include "domain/customer_filters.hpp"
#include "domain/customer_pages.hpp"
#include "domain/customer_row_view.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

class CustomerCrudService {
 public:
  explicit CustomerCrudService(db::Database& db) : db_(db) {}

  // A page of active customers with their metrics, in ONE statement (plus the
  // transaction's settings statement): filters, keyset cursor, sort in either
  // direction; total when asked. Validates the filters (ValidationError).
  domain::CustomerPage get_customers(const domain::RequestContext& ctx, const domain::CustomerFilters& filters);
  // The same page (same statement, cursor and total) as views into the database
  // result, without building domain objects: for writers that render the rows
  // straight away (GET /v1/customers). get_customers is this plus to_customer_with_metrics.
  domain::CustomerRowsPage get_customer_rows(const domain::RequestContext& ctx, const domain::CustomerFilters& filters);

  // NotFoundError unless the customer is active (or include_deleted: any status).
  domain::Customer get_customer_by_id(const domain::RequestContext& ctx, const std::string& id,
                                      bool include_deleted = false);
  domain::CustomerWithMetrics get_customer_with_metrics(const domain::RequestContext& ctx, const std::string& id,
                                                        bool include_deleted = false);
  // Active customers whose email equals `email` after trim + lower-case (oldest first).
  // ValidationError for a blank email.
  std::optional<domain::Customer> find_by_email(const domain::RequestContext& ctx, const std::string& email);
  // Name (typo tolerant, pg_trgm similarity), email and phone digits (partial), ranked best first.
  // ValidationError for a blank query or one longer than 200 characters, or limit outside 1..100.
  std::vector<domain::SearchHit> search_customers(const domain::RequestContext& ctx, const std::string& query,
                                          int limit = 20);

  // Writes need role agent or admin (PermissionError otherwise).
  // ValidationError when name, email, phone and external_id are all blank, tags are not
  // normalized (domain::normalize_tags) or attributes is not an object.
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

 private:
  db::Database& db_;
  db::CustomerRepository customers_;
};

// PermissionError unless ctx's role may change customers (agent, admin).
void require_customer_writer(const domain::RequestContext& ctx);
// NotFoundError("customer <id> not found") unless `id` is a uuid (no such customer can exist).
void require_customer_uuid(const std::string& id);
// ValidationError unless a patch is non-empty, its tags normalized and its attributes an object.
void validate_customer_patch(const domain::CustomerPatch& patch);

}  // namespace tradesphere::services
