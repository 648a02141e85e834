// The console's Overview (GET /v1/overview, issue 17): one company's customers by
// lifecycle stage, its duplicate rate, today's conversations and its open chat
// sync failures. Counts only, from one statement (db/overview_repository.hpp); no
// per-row work here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "domain/overview.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

class DuplicateGroupCache;

struct Overview {
  domain::OverviewCounts counts;
  double min_duplicate_score = 0;  // the Duplicates screen's default (ScoringConfig::threshold)
  std::int64_t active_customers = 0;
  // customers in an open duplicate pair / active customers (0 without customers)
  double duplicate_rate = 0;
  // groups as the Duplicates screen grouped the current pairs (the group cache of
  // CustomerMergeService); nullopt when the pairs changed since it last grouped
  // them: regrouping every pair costs ~1.6 s at 100k, too much for an overview
  std::optional<std::size_t> duplicate_groups;
};

class OverviewService {
 public:
  explicit OverviewService(db::Database& db, std::shared_ptr<DuplicateGroupCache> groups = nullptr)
      : db_(db), groups_(std::move(groups)) {}

  // Any role (viewer and up). The caller's company only (ctx.company_id).
  Overview get_overview(const domain::RequestContext& ctx);

 private:
  db::Database& db_;
  std::shared_ptr<DuplicateGroupCache> groups_;
};

// The JSON of GET /v1/overview (docs/api.md, "Overview").
nlohmann::json to_json(const Overview& overview);

}  // namespace tradesphere::services
