// The JSON of a customer list page, written straight into one string.
//
// Why not domain::to_json + dump: building an nlohmann DOM for 1000 customers
// (~25 values each, a std::map per object) and dumping it cost ~20 ms per
// 1000-row page on the benchmark machine, more than the database query itself.
// RapidJSON's Writer streams the same document in a few milliseconds. The output
// is the same JSON as page_json(items, domain::to_json) — same keys, same
// (alphabetical) key order, same values — checked by
// tests/unit/customer_page_json_test.cpp.
//
// Since then the list route skips the domain objects too: the second overload
// writes the JSON from views into the database result (domain/customer_row_view.hpp),
// with rapidjson's escaping reproduced, timestamps reformatted without allocating
// and tags copied as PostgreSQL wrote them when they need no escape
// (docs/performance.md, "List 1000 over HTTP: where the time went").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer_row_view.hpp"
#include "domain/customer.hpp"

namespace tradesphere::http {

// {"items":[…],"next_cursor":…[,"total":…]}
std::string render_customer_page(const std::vector<domain::CustomerWithMetrics>& items,
                                 const std::optional<std::string>& next_cursor,
                                 const std::optional<std::int64_t>& total);

// The same document written straight from the database rows (no domain objects,
// no allocation per field): what GET /v1/customers sends. Byte for byte the output
// of the overload above for the domain objects built from the same rows
// (to_customer_with_metrics), checked by tests/pg/customer_page_json_pgtest.cpp.
std::string render_customer_page(const domain::CustomerRowsPage& page);

}  // namespace tradesphere::http
