// A company's figures as the console's Overview (services::OverviewService,
// GET /v1/overview) and the business gauges on /metrics (services::BusinessGauges)
// return them: counts only. No database type here.
#pragma once

#include <cstdint>
#include <string>

namespace tradesphere::domain {

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

// One company and lifecycle stage with active customers: aggregate counts only.
struct CustomerGaugeRow {
  std::string company_id;
  std::string lifecycle_stage;
  std::int64_t customers = 0;       // active customers of this stage
  std::int64_t with_duplicate = 0;  // of them, sharing an email/phone key with another active customer
};

// Open chat sync failures (chat rows stored but not linked) of one company, reason
// ('error', 'paused', 'metrics') and SQLSTATE ("" when none): counts only.
struct ChatSyncFailureGaugeRow {
  std::string company_id;
  std::string reason;
  std::string sqlstate;
  std::int64_t failures = 0;
};

}  // namespace tradesphere::domain
