#include "db/metrics_repository.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kCustomerGauges =
    "SELECT g.company_id::text, g.lifecycle_stage, g.customers, g.with_duplicate "
    "FROM customer_gauges() g ORDER BY 1, 2";

}  // namespace

std::vector<CustomerGaugeRow> load_customer_gauges(Tx& tx) {
  std::vector<CustomerGaugeRow> out;
  for (const auto& row : tx.exec(kCustomerGauges)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::int64_t>(),
                   row[3].as<std::int64_t>()});
  }
  return out;
}

}  // namespace tradesphere::db
