// SQL of the business gauges served on /metrics (migration 0013, customer_gauges();
// migration 0018, chat_sync_failure_gauges()).
#pragma once

#include <vector>

#include "domain/overview.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/overview.hpp), by their names in this layer.
using domain::ChatSyncFailureGaugeRow;
using domain::CustomerGaugeRow;

// Every company's rows (SECURITY DEFINER customer_gauges(): it enters each tenant in
// turn and restores the caller's app.company_id), ordered by company and stage.
std::vector<CustomerGaugeRow> load_customer_gauges(Tx& tx);

// Every company's open failures (SECURITY DEFINER chat_sync_failure_gauges()),
// ordered by company, reason and SQLSTATE.
std::vector<ChatSyncFailureGaugeRow> load_chat_sync_failure_gauges(Tx& tx);

}  // namespace tradesphere::db
