#include "services/customer_crud_service.hpp"

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

void count_created(const domain::Customer& c) {
  static auto& created = common::metrics().counter_family("tradesphere_customers_created_total",
                                                          "Customers created, by source");
  created.with({{"source", domain::to_string(c.source)}}).inc();
}

}  // namespace

void require_customer_writer(const domain::RequestContext& ctx) {
  if (!ctx.can_write()) {
    throw domain::PermissionError("role " + std::string(domain::to_string(ctx.role)) + " may not change customers");
  }
}

void require_customer_uuid(const std::string& id) {
  if (!domain::is_uuid(id)) throw domain::NotFoundError("customer " + id + " not found");
}

void validate_customer_patch(const domain::CustomerPatch& patch) {
  if (patch.empty()) throw domain::ValidationError("body", "no field to update");
  if (patch.tags && domain::normalize_tags(*patch.tags) != *patch.tags) {
    throw domain::ValidationError("tags", "tags must be normalized (domain::normalize_tags)");
  }
  if (patch.attributes && !patch.attributes->is_object()) {
    throw domain::ValidationError("attributes", "must be an object");
  }
}

domain::CustomerPage CustomerCrudService::get_customers(const domain::RequestContext& ctx,
                                                const domain::CustomerFilters& filters) {
  auto rows = get_customer_rows(ctx, filters);
  domain::CustomerPage page;
  page.items.reserve(rows.items.size());
  for (const auto& v : rows.items) page.items.push_back(domain::to_customer_with_metrics(v));
  page.next_cursor = std::move(rows.next_cursor);
  page.total = rows.total;
  return page;
}

domain::CustomerRowsPage CustomerCrudService::get_customer_rows(const domain::RequestContext& ctx,
                                                                const domain::CustomerFilters& filters) {
  domain::validate_customer_filters(filters);
  // a cursor of another list is refused before a connection is taken
  if (filters.cursor) (void)domain::decode_cursor(*filters.cursor, filters.sort, filters.descending);
  return db_.transact(
      ctx, "get_customers", [&](db::Tx& tx) { return customers_.get_customer_rows(tx, ctx.company_id, filters); },
      db::TxMode::kReadOnly);
}

domain::Customer CustomerCrudService::get_customer_by_id(const domain::RequestContext& ctx, const std::string& id,
                                                         bool include_deleted) {
  return get_customer_with_metrics(ctx, id, include_deleted).customer;
}

domain::CustomerWithMetrics CustomerCrudService::get_customer_with_metrics(const domain::RequestContext& ctx,
                                                                           const std::string& id,
                                                                           bool include_deleted) {
  require_customer_uuid(id);
  auto found = db_.transact(
      ctx, "get_customer_with_metrics",
      [&](db::Tx& tx) { return customers_.find_customer_with_metrics(tx, ctx.company_id, id, include_deleted); },
      db::TxMode::kReadOnly);
  if (!found) throw domain::NotFoundError("customer " + id + " not found");
  return std::move(*found);
}

std::optional<domain::Customer> CustomerCrudService::find_by_email(const domain::RequestContext& ctx,
                                                                   const std::string& email) {
  if (domain::trim(email).empty()) throw domain::ValidationError("email", "must not be blank");
  return db_.transact(
      ctx, "find_by_email", [&](db::Tx& tx) { return customers_.find_by_email(tx, ctx.company_id, email); },
      db::TxMode::kReadOnly);
}

std::vector<domain::SearchHit> CustomerCrudService::search_customers(const domain::RequestContext& ctx,
                                                             const std::string& query, int limit) {
  const std::string q = domain::trim(query);
  std::vector<domain::FieldError> errors;
  if (q.empty()) errors.push_back({"q", "must not be blank"});
  if (q.size() > domain::kMaxQueryLength) errors.push_back({"q", "must be at most 200 characters"});
  if (limit < 1 || limit > domain::kMaxSearchLimit) errors.push_back({"limit", "must be between 1 and 100"});
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  return db_.transact(
      ctx, "search_customers", [&](db::Tx& tx) { return customers_.search_customers(tx, ctx.company_id, q, limit); },
      db::TxMode::kReadOnly);
}

domain::Customer CustomerCrudService::create_customer(const domain::RequestContext& ctx,
                                                      const domain::NewCustomer& customer) {
  require_customer_writer(ctx);
  auto blank = [](const std::optional<std::string>& s) { return !s || domain::trim(*s).empty(); };
  if (blank(customer.name) && blank(customer.email) && blank(customer.phone) && blank(customer.external_id)) {
    throw domain::ValidationError("name", "one of name, email, phone, external_id is required");
  }
  if (domain::normalize_tags(customer.tags) != customer.tags) {
    throw domain::ValidationError("tags", "tags must be normalized (domain::normalize_tags)");
  }
  if (!customer.attributes.is_object()) throw domain::ValidationError("attributes", "must be an object");
  auto created = db_.transact(
      ctx, "create_customer", [&](db::Tx& tx) { return customers_.insert_customer(tx, ctx.company_id, customer); });
  common::log(spdlog::level::info, "customer.created",
              {{"customer_id", created.id}, {"source", domain::to_string(created.source)}});
  count_created(created);
  return created;
}

domain::Customer CustomerCrudService::update_customer(const domain::RequestContext& ctx, const std::string& id,
                                                      const domain::CustomerPatch& patch,
                                                      std::optional<int> expected_version) {
  require_customer_writer(ctx);
  require_customer_uuid(id);
  validate_customer_patch(patch);
  return db_.transact(ctx, "update_customer", [&](db::Tx& tx) {
    return customers_.update_customer(tx, ctx.company_id, id, patch, expected_version);
  });
}

domain::Customer CustomerCrudService::soft_delete_customer(const domain::RequestContext& ctx, const std::string& id,
                                                           std::optional<int> expected_version) {
  require_customer_writer(ctx);
  require_customer_uuid(id);
  return db_.transact(ctx, "soft_delete_customer", [&](db::Tx& tx) {
    return customers_.soft_delete_customer(tx, ctx.company_id, id, expected_version);
  });
}

domain::Customer CustomerCrudService::restore_customer(const domain::RequestContext& ctx, const std::string& id) {
  require_customer_writer(ctx);
  require_customer_uuid(id);
  return db_.transact(ctx, "restore_customer",
                      [&](db::Tx& tx) { return customers_.restore_customer(tx, ctx.company_id, id); });
}

}  // namespace tradesphere::services
