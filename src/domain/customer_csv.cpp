#include "domain/customer_csv.hpp"

#include <ctime>
#include <optional>
#include <vector>

#include "domain/csv_writer.hpp"

namespace tradesphere::domain {

void append_customer_csv_header(std::string& out) {
  std::vector<std::optional<std::string>> fields(kCustomerCsvColumns.begin(), kCustomerCsvColumns.end());
  append_csv_record(out, fields);
}

void append_customer_csv_record(std::string& out, const CustomerWithMetrics& cm) {
  const Customer& c = cm.customer;
  const CustomerMetrics& m = cm.metrics;
  std::string tags;
  for (const auto& t : c.tags) {
    if (!tags.empty()) tags += ';';
    tags += t;
  }
  append_csv_record(out, {c.id, c.external_id, c.name, c.email, c.phone, c.address, std::string(to_string(c.stage)),
                          std::move(tags), c.notes, std::string(to_string(c.source)), c.created_at, c.updated_at,
                          std::to_string(m.conversation_count), std::to_string(m.message_count),
                          m.last_contact_at});
}

std::string customer_export_file_name(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  return std::string("customers-") + date + ".csv";
}

}  // namespace tradesphere::domain
