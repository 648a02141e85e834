#include "db/metrics_repository.hpp"

#include "db/database.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kCustomerGauges =
    "SELECT g.company_id::text, g.lifecycle_stage, g.customers, g.with_duplicate "
    "FROM customer_gauges() g ORDER BY 1, 2";

constexpr const char* kChatSyncFailureGauges =
    "SELECT g.company_id::text, g.reason, g.sqlstate, g.failures FROM chat_sync_failure_gauges() g ORDER BY 1, 2, 3";

}  // namespace

std::vector<CustomerGaugeRow> load_customer_gauges(Tx& tx) {
  std::vector<CustomerGaugeRow> out;
  for (const auto& row : tx.exec(kCustomerGauges)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::int64_t>(),
                   row[3].as<std::int64_t>()});
  }
  return out;
}

std::vector<ChatSyncFailureGaugeRow> load_chat_sync_failure_gauges(Tx& tx) {
  std::vector<ChatSyncFailureGaugeRow> out;
  for (const auto& row : tx.exec(kChatSyncFailureGauges)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::int64_t>()});
  }
  return out;
}

}  // namespace tradesphere::db
