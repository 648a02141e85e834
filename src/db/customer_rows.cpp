#include "db/customer_rows.hpp"

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

std::optional<std::string> opt(const pqxx::field& f) { return f.as<std::optional<std::string>>(); }

// Timestamps leave the database as RFC 3339 UTC (domain/timestamp.hpp).
std::string ts(const pqxx::field& f) { return domain::rfc3339_or_same(f.as<std::string>()); }
std::optional<std::string> opt_ts(const pqxx::field& f) {
  auto v = opt(f);
  if (v) *v = domain::rfc3339_or_same(*v);
  return v;
}

}  // namespace

domain::Customer customer_from_row(const pqxx::row& row, int offset) {
  auto at = [&](int i) { return row[offset + i]; };
  domain::Customer c;
  c.id = at(0).as<std::string>();
  c.company_id = at(1).as<std::string>();
  c.external_id = opt(at(2));
  c.name = opt(at(3));
  c.email = opt(at(4));
  c.phone = opt(at(5));
  c.address = opt(at(6));
  c.notes = opt(at(7));
  c.attributes = nlohmann::json::parse(at(8).as<std::string>());
  c.stage = domain::parse_lifecycle_stage(at(9).as<std::string>());
  auto tags = nlohmann::json::parse(at(10).as<std::string>());
  c.tags = tags.get<std::vector<std::string>>();
  c.source = domain::parse_customer_source(at(11).as<std::string>());
  c.status = domain::parse_customer_status(at(12).as<std::string>());
  c.merged_into_customer_id = opt(at(13));
  c.deleted_at = opt_ts(at(14));
  c.created_at = ts(at(15));
  c.updated_at = ts(at(16));
  c.created_by = opt(at(17));
  c.updated_by = opt(at(18));
  c.version = at(19).as<int>();
  return c;
}

domain::CustomerMetrics metrics_from_row(const pqxx::row& row, int offset) {
  domain::CustomerMetrics m;
  m.conversation_count = row[offset].as<std::int64_t>();
  m.message_count = row[offset + 1].as<std::int64_t>();
  m.first_contact_at = opt_ts(row[offset + 2]);
  m.last_contact_at = opt_ts(row[offset + 3]);
  m.last_message_preview = opt(row[offset + 4]);
  return m;
}

domain::CustomerWithMetrics customer_with_metrics_from_row(const pqxx::row& row) {
  return {customer_from_row(row, 0), metrics_from_row(row, kCustomerColumnCount)};
}

}  // namespace tradesphere::db
