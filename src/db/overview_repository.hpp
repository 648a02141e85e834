// SQL of the console's Overview (GET /v1/overview, issue 17): one company's
// figures in one statement, so they all come from the same snapshot.
//
// Counts only, read where the schema keeps them cheap (docs/api.md, "Overview"):
//   customers by lifecycle stage   customers (active only; the one scan of the company's
//                                  active customers: no index holds the stage)
//   duplicate pairs                duplicate_candidates (the maintained pairs, 0016),
//                                  score >= min_score, through (company_id, score DESC)
//   chat today (UTC day)           customer_metrics.last_contact_at (index) finds the
//                                  customers with a message today, their rows through
//                                  vc_usage_customer_timeline_idx; orphans through
//                                  vc_usage_orphans_idx: no scan of the company's chats
//   open sync failures by reason   chat_sync_failures_open_idx (partial)
//   orphaned chat rows             vc_usage_orphans_idx (partial)
#pragma once

#include <string>

#include "domain/overview.hpp"

namespace tradesphere::db {

class Tx;

// The value (domain/overview.hpp), by its name in this layer.
using domain::OverviewCounts;

// The figures of `company_id` (which must also be the transaction's tenant: RLS
// applies). One statement.
OverviewCounts load_overview(Tx& tx, const std::string& company_id, double min_duplicate_score);

}  // namespace tradesphere::db
