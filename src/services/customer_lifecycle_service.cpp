#include "services/customer_lifecycle_service.hpp"

#include <algorithm>

#include "common/json_log.hpp"
#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"
#include "services/customer_crud_service.hpp"

namespace tradesphere::services {
namespace {

template <typename Change>
domain::Customer change_tags(db::Database& db, db::CustomerRepository& customers, const domain::RequestContext& ctx,
                             const std::string& id, const char* operation, Change&& change) {
  require_customer_uuid(id);
  return db.transact(ctx, operation, [&](db::Tx& tx) {
    auto current = customers.lock_active_customer(tx, ctx.company_id, id);
    if (!current) throw domain::NotFoundError("customer " + id + " not found");
    std::vector<std::string> next = change(current->tags);
    if (next.size() > domain::kMaxTags) {
      throw domain::ValidationError("tags", "a customer has at most " + std::to_string(domain::kMaxTags) + " tags");
    }
    if (next == current->tags) return std::move(*current);
    return customers.set_tags(tx, ctx.company_id, id, next);
  });
}

}  // namespace

CustomerLifecycleService::CustomerLifecycleService(db::Database& db) : db_(db) {}

domain::Customer CustomerLifecycleService::update_lifecycle_stage(const domain::RequestContext& ctx,
                                                                  const std::string& customer_id,
                                                                  domain::LifecycleStage stage,
                                                                  std::optional<int> expected_version) {
  require_customer_writer(ctx);
  require_customer_uuid(customer_id);
  domain::CustomerPatch patch;
  patch.stage = stage;
  return db_.transact(ctx, "update_customer", [&](db::Tx& tx) {
    return customers_.update_customer(tx, ctx.company_id, customer_id, patch, expected_version);
  });
}

domain::Customer CustomerLifecycleService::add_tags(const domain::RequestContext& ctx, const std::string& customer_id,
                                                    const std::vector<std::string>& tags) {
  require_customer_writer(ctx);
  auto normalized = domain::normalize_tags(tags);
  if (normalized.empty()) throw domain::ValidationError("tags", "at least one tag is required");
  return change_tags(db_, customers_, ctx, customer_id, "add_tags", [&](const std::vector<std::string>& current) {
    std::vector<std::string> next = current;
    for (const auto& t : normalized) {
      if (std::find(next.begin(), next.end(), t) == next.end()) next.push_back(t);
    }
    return next;
  });
}

domain::Customer CustomerLifecycleService::remove_tags(const domain::RequestContext& ctx,
                                                       const std::string& customer_id,
                                                       const std::vector<std::string>& tags) {
  require_customer_writer(ctx);
  auto normalized = domain::normalize_tags(tags);
  if (normalized.empty()) throw domain::ValidationError("tags", "at least one tag is required");
  return change_tags(db_, customers_, ctx, customer_id, "remove_tags", [&](const std::vector<std::string>& current) {
    std::vector<std::string> next;
    for (const auto& t : current) {
      if (std::find(normalized.begin(), normalized.end(), t) == normalized.end()) next.push_back(t);
    }
    return next;
  });
}

domain::TimelinePage CustomerLifecycleService::get_customer_timeline(const domain::RequestContext& ctx,
                                                                 const std::string& customer_id, int limit,
                                                                 const std::optional<std::string>& cursor) {
  require_customer_uuid(customer_id);
  if (limit < 1 || limit > domain::kMaxTimelineLimit) throw domain::ValidationError("limit", "must be between 1 and 500");
  return db_.transact(
      ctx, "get_customer_timeline",
      [&](db::Tx& tx) {
        // A merged or deleted customer keeps its history: readable by id.
        if (!customers_.customer_exists(tx, ctx.company_id, customer_id, /*include_deleted=*/true)) {
          throw domain::NotFoundError("customer " + customer_id + " not found");
        }
        return customers_.get_customer_timeline(tx, ctx.company_id, customer_id, limit, cursor);
      },
      db::TxMode::kReadOnly);
}

domain::BulkStageResult CustomerLifecycleService::bulk_update_lifecycle_stage(const domain::RequestContext& ctx,
                                                                          const std::vector<std::string>& customer_ids,
                                                                          domain::LifecycleStage stage) {
  require_customer_writer(ctx);
  if (customer_ids.size() > domain::kMaxBulkIds) {
    throw domain::ValidationError("customer_ids", "at most " + std::to_string(domain::kMaxBulkIds) + " ids per call");
  }
  domain::BulkStageResult result;
  if (!customer_ids.empty()) {
    result = db_.transact(ctx, "bulk_update_lifecycle_stage", [&](db::Tx& tx) {
      return customers_.bulk_update_lifecycle_stage(tx, ctx.company_id, customer_ids, stage);
    });
  }
  common::log(spdlog::level::info, "customers.bulk_stage",
              {{"stage", domain::to_string(stage)},
               {"requested", customer_ids.size()},
               {"updated", result.updated},
               {"not_found", result.not_found.size()}});
  return result;
}

}  // namespace tradesphere::services
