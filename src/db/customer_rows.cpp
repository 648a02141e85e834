#include "db/customer_rows.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace tradesphere::db {
namespace {

using domain::OptView;

std::string_view text(const pqxx::field& f) {
  return {f.c_str(), f.size()};
}
OptView opt(const pqxx::field& f) {
  return f.is_null() ? OptView{} : OptView{text(f)};
}
std::string_view required(const pqxx::field& f) {
  if (f.is_null()) throw std::runtime_error(std::string("unexpected NULL in column ") + f.name());
  return text(f);
}

template <typename Int>
Int integer(const pqxx::field& f) {
  const auto t = required(f);
  Int value{};
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) {
    throw std::runtime_error("not an integer in column " + std::string(f.name()) + ": " + std::string(t));
  }
  return value;
}

}  // namespace

// Timestamps leave the database as RFC 3339 UTC (domain/timestamp.hpp): to_customer
// and to_metrics (domain/customer_row_view.cpp) convert them.
domain::Customer customer_from_row(const pqxx::row& row, int offset) { return domain::to_customer(customer_view(row, offset)); }

domain::CustomerMetrics metrics_from_row(const pqxx::row& row, int offset) {
  return domain::to_metrics(metrics_view(row, offset));
}

domain::CustomerWithMetrics customer_with_metrics_from_row(const pqxx::row& row) {
  return {customer_from_row(row, 0), metrics_from_row(row, kCustomerColumnCount)};
}

// Both walk the row with one column iterator: an iterator is a pqxx::field that moves,
// while row[i] builds a field per column, and every field holds a copy of the result
// (two reference counts, atomically incremented and decremented: ~10 % of the list
// page's CPU with 30 columns x 1000 rows).
domain::CustomerView customer_view(const pqxx::row& row, int offset) {
  pqxx::const_row_iterator it = row.begin();
  it += offset;
  domain::CustomerView c;
  c.id = required(it);
  c.company_id = required(++it);
  c.external_id = opt(++it);
  c.name = opt(++it);
  c.email = opt(++it);
  c.phone = opt(++it);
  c.address = opt(++it);
  c.notes = opt(++it);
  c.attributes = required(++it);
  c.stage = domain::parse_lifecycle_stage(required(++it));
  c.tags = required(++it);
  c.source = domain::parse_customer_source(required(++it));
  c.status = domain::parse_customer_status(required(++it));
  c.merged_into_customer_id = opt(++it);
  c.deleted_at = opt(++it);
  c.created_at = required(++it);
  c.updated_at = required(++it);
  c.created_by = opt(++it);
  c.updated_by = opt(++it);
  c.version = integer<int>(++it);
  return c;
}

domain::MetricsView metrics_view(const pqxx::row& row, int offset) {
  pqxx::const_row_iterator it = row.begin();
  it += offset;
  domain::MetricsView m;
  m.conversation_count = integer<std::int64_t>(it);
  m.message_count = integer<std::int64_t>(++it);
  m.first_contact_at = opt(++it);
  m.last_contact_at = opt(++it);
  m.last_message_preview = opt(++it);
  return m;
}

}  // namespace tradesphere::db
