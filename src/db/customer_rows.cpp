#include "db/customer_rows.hpp"

namespace tradesphere::db {

// Timestamps leave the database as RFC 3339 UTC (domain/timestamp.hpp): to_customer
// and to_metrics (customer_row_view.cpp) convert them.
domain::Customer customer_from_row(const pqxx::row& row, int offset) { return to_customer(customer_view(row, offset)); }

domain::CustomerMetrics metrics_from_row(const pqxx::row& row, int offset) {
  return to_metrics(metrics_view(row, offset));
}

domain::CustomerWithMetrics customer_with_metrics_from_row(const pqxx::row& row) {
  return {customer_from_row(row, 0), metrics_from_row(row, kCustomerColumnCount)};
}

}  // namespace tradesphere::db
