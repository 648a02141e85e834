// CustomerLifecycleService: lifecycle stages, tags and the customer timeline.
// Writes need role agent or admin (PermissionError for viewers). Each call is one
// transaction around db::CustomerRepository's queries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/customer_repository.hpp"
#include "domain/customer.hpp"
#include "domain/customer_pages.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

class CustomerLifecycleService {
 public:
  explicit CustomerLifecycleService(db::Database& db);

  // The database records a stage_changed event {from, to} when the stage changes.
  domain::Customer update_lifecycle_stage(const domain::RequestContext& ctx, const std::string& customer_id,
                                          domain::LifecycleStage stage,
                                          std::optional<int> expected_version = std::nullopt);
  // Tags are normalized with domain::normalize_tags (trimmed, lower-cased, de-duplicated,
  // at most 50 of at most 64 chars); the result may not exceed 50 tags either.
  domain::Customer add_tags(const domain::RequestContext& ctx, const std::string& customer_id,
                            const std::vector<std::string>& tags);
  domain::Customer remove_tags(const domain::RequestContext& ctx, const std::string& customer_id,
                               const std::vector<std::string>& tags);
  domain::TimelinePage get_customer_timeline(const domain::RequestContext& ctx, const std::string& customer_id,
                                         int limit = 50, const std::optional<std::string>& cursor = std::nullopt);
  // At most 10,000 ids (ValidationError above); one statement; one stage_changed event per changed customer.
  domain::BulkStageResult bulk_update_lifecycle_stage(const domain::RequestContext& ctx,
                                                  const std::vector<std::string>& customer_ids,
                                                  domain::LifecycleStage stage);

 private:
  db::Database& db_;
  db::CustomerRepository customers_;
};

}  // namespace tradesphere::services
