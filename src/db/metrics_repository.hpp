// SQL of the business gauges served on /metrics (migration 0013, customer_gauges();
// migration 0018, chat_sync_failure_gauges()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace tradesphere::db {

// One company and lifecycle stage with active customers: aggregate counts only.
struct CustomerGaugeRow {
  std::string company_id;
  std::string lifecycle_stage;
  std::int64_t customers = 0;       // active customers of this stage
  std::int64_t with_duplicate = 0;  // of them, sharing an email/phone key with another active customer
};

// Every company's rows (SECURITY DEFINER customer_gauges(): it enters each tenant in
// turn and restores the caller's app.company_id), ordered by company and stage.
std::vector<CustomerGaugeRow> load_customer_gauges(Tx& tx);

// Open chat sync failures (chat rows stored but not linked) of one company, reason
// ('error', 'paused', 'metrics') and SQLSTATE ("" when none): counts only.
struct ChatSyncFailureGaugeRow {
  std::string company_id;
  std::string reason;
  std::string sqlstate;
  std::int64_t failures = 0;
};

// Every company's open failures (SECURITY DEFINER chat_sync_failure_gauges()),
// ordered by company, reason and SQLSTATE.
std::vector<ChatSyncFailureGaugeRow> load_chat_sync_failure_gauges(Tx& tx);

}  // namespace tradesphere::db
