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

#include <cstdint>
#include <string>

#include "db/database.hpp"

namespace tradesphere::db {

struct OverviewCounts {
  std::string as_of;      // the transaction's now(), RFC 3339 UTC
  std::string day_start;  // midnight UTC of that day: "today" starts here
  // active customers per lifecycle stage (soft-deleted and merged ones excluded)
  std::int64_t prospect = 0, lead = 0, customer = 0, churned = 0;
  // maintained duplicate pairs scoring >= min_score (dismissed pairs and pairs of
  // customers no longer active are deleted by triggers), and the distinct
  // customers in them
  std::int64_t duplicate_pairs = 0;
  std::int64_t customers_in_duplicate_pairs = 0;
  std::int64_t duplicate_pairs_version = 0;  // duplicate_pair_versions (0019), 0 when none
  // chat rows of the company created today (UTC), linked or not, and their
  // conversations (conversation_key: the session id, or the row alone without one):
  // those with a message today, and those whose first message is today
  std::int64_t messages_today = 0;
  std::int64_t conversations_active_today = 0;
  std::int64_t conversations_started_today = 0;
  // open chat_sync_failures (resolved_at IS NULL) by reason
  std::int64_t sync_failures_error = 0, sync_failures_paused = 0, sync_failures_metrics = 0;
  // chat rows without a customer (no contact details, paused or failed sync)
  std::int64_t orphaned_chat_rows = 0;
};

// The figures of `company_id` (which must also be the transaction's tenant: RLS
// applies). One statement.
OverviewCounts load_overview(Tx& tx, const std::string& company_id, double min_duplicate_score);

}  // namespace tradesphere::db
