#include "services/customer_lifecycle_service.hpp"

#include "common/json_log.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

void require_writer(const domain::RequestContext& ctx) {
  if (!ctx.can_write()) {
    throw domain::PermissionError("role " + std::string(domain::to_string(ctx.role)) + " may not change customers");
  }
}

}  // namespace

CustomerLifecycleService::CustomerLifecycleService(db::Database& db) : customers_(db) {}

domain::Customer CustomerLifecycleService::update_lifecycle_stage(const domain::RequestContext& ctx,
                                                                  const std::string& customer_id,
                                                                  domain::LifecycleStage stage,
                                                                  std::optional<int> expected_version) {
  require_writer(ctx);
  return customers_.set_lifecycle_stage(ctx, customer_id, stage, expected_version);
}

domain::Customer CustomerLifecycleService::add_tags(const domain::RequestContext& ctx, const std::string& customer_id,
                                                    const std::vector<std::string>& tags) {
  require_writer(ctx);
  auto normalized = domain::normalize_tags(tags);
  if (normalized.empty()) throw domain::ValidationError("tags", "at least one tag is required");
  return customers_.add_tags(ctx, customer_id, normalized);
}

domain::Customer CustomerLifecycleService::remove_tags(const domain::RequestContext& ctx,
                                                       const std::string& customer_id,
                                                       const std::vector<std::string>& tags) {
  require_writer(ctx);
  auto normalized = domain::normalize_tags(tags);
  if (normalized.empty()) throw domain::ValidationError("tags", "at least one tag is required");
  return customers_.remove_tags(ctx, customer_id, normalized);
}

db::TimelinePage CustomerLifecycleService::get_customer_timeline(const domain::RequestContext& ctx,
                                                                 const std::string& customer_id, int limit,
                                                                 const std::optional<std::string>& cursor) {
  // A merged or deleted customer keeps its history: readable by id.
  return customers_.get_customer_timeline(ctx, customer_id, limit, cursor, /*include_deleted=*/true);
}

db::BulkStageResult CustomerLifecycleService::bulk_update_lifecycle_stage(const domain::RequestContext& ctx,
                                                                          const std::vector<std::string>& customer_ids,
                                                                          domain::LifecycleStage stage) {
  require_writer(ctx);
  auto result = customers_.bulk_update_lifecycle_stage(ctx, customer_ids, stage);
  common::log(spdlog::level::info, "customers.bulk_stage",
              {{"stage", domain::to_string(stage)},
               {"requested", customer_ids.size()},
               {"updated", result.updated},
               {"not_found", result.not_found.size()}});
  return result;
}

}  // namespace tradesphere::services
