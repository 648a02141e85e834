// A customers row and its metrics as views into a database result (filled by
// db/customer_rows.hpp from kCustomerColumns / kMetricsColumns): no copy, no
// allocation per field. The one decoding of those columns: the domain objects are
// built from these views (to_customer, to_metrics), and the list page's JSON is
// written straight from them (http/customer_page_json). No database type appears
// here, so the HTTP layer reads the rows without including a repository.
// A view is valid while the result it points into lives (CustomerRowsPage::storage).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.hpp"

namespace tradesphere::domain {

using OptView = std::optional<std::string_view>;

// Text as PostgreSQL sent it. Timestamps are PostgreSQL's timestamptz output
// ("2026-12-06 16:54:57.651908+00"), attributes the jsonb's text, tags the
// array_to_json text: converted by whoever reads them (customer_rows.hpp for the
// domain objects, the page renderer for JSON).
struct CustomerView {
  std::string_view id;
  std::string_view company_id;
  OptView external_id, name, email, phone, address, notes;
  std::string_view attributes;  // jsonb text, "{}" when empty
  LifecycleStage stage = LifecycleStage::kProspect;
  std::string_view tags;  // array_to_json(tags)::text: ["a","b"]
  CustomerSource source = CustomerSource::kManual;
  CustomerStatus status = CustomerStatus::kActive;
  OptView merged_into_customer_id;
  OptView deleted_at;
  std::string_view created_at;
  std::string_view updated_at;
  OptView created_by, updated_by;
  int version = 1;
};

struct MetricsView {
  std::int64_t conversation_count = 0;
  std::int64_t message_count = 0;
  OptView first_contact_at, last_contact_at;
  OptView last_message_preview;
};

struct CustomerWithMetricsView {
  CustomerView customer;
  MetricsView metrics;
};

// A list page as views (CustomerCrudService::get_customer_rows): what
// CustomerPage holds, without building domain objects.
struct CustomerRowsPage {
  std::vector<CustomerWithMetricsView> items;
  std::optional<std::string> next_cursor;  // absent on the last page
  std::optional<std::int64_t> total;       // only when filters.include_total
  std::shared_ptr<const void> storage;     // owns the database result the views point into
};

// The strings of an array_to_json text array (["a","b\"c"]). Throws on anything
// else (a NULL element, not an array of strings), like the JSON parser it stands in for.
std::vector<std::string> tags_from_json(std::string_view text);

// True when `text` is an array of strings with no escape sequence (["a","b"], []):
// then it is already the exact JSON our writers produce for those strings.
bool tags_json_is_plain(std::string_view text) noexcept;

Customer to_customer(const CustomerView& v);
CustomerMetrics to_metrics(const MetricsView& v);
inline CustomerWithMetrics to_customer_with_metrics(const CustomerWithMetricsView& v) {
  return {to_customer(v.customer), to_metrics(v.metrics)};
}

}  // namespace tradesphere::domain
