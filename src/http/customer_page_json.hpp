// The JSON of a customer list page, written straight into one string.
//
// Why not domain::to_json + dump: building an nlohmann DOM for 1000 customers
// (~25 values each, a std::map per object) and dumping it cost ~20 ms per
// 1000-row page on the benchmark machine, more than the database query itself.
// RapidJSON's Writer streams the same document in a few milliseconds. The output
// is the same JSON as page_json(items, domain::to_json) — same keys, same
// (alphabetical) key order, same values — checked by
// tests/unit/customer_page_json_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/customer.hpp"

namespace tradesphere::http {

// {"items":[…],"next_cursor":…[,"total":…]}
std::string render_customer_page(const std::vector<domain::CustomerWithMetrics>& items,
                                 const std::optional<std::string>& next_cursor,
                                 const std::optional<std::int64_t>& total);

}  // namespace tradesphere::http
