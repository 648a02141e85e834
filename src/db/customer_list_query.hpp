// The list-page statement of CustomerRepository::get_customers and the pure
// helpers that turn CustomerFilters into its parameters (unit-tested without a
// database in tests/unit/customer_list_query_test.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/customer_filters.hpp"

namespace tradesphere::db {

// The statement for one sort key and direction (built once from constant
// fragments; no caller data). Parameters, all text:
//   $1 company  $2 stage  $3 tags_any (jsonb array)  $4 tags_all (jsonb array)
//   $5 source  $6/$7 created from/to  $8/$9 last contact from/to
//   $10 has_email  $11 has_phone  $12 free text (like_escape'd)  $18 search_digits of it
//   $13 has cursor  $14 cursor value (NULL = the last row's sort value was NULL)  $15 cursor id
//   $16 limit + 1  $17 include total
// Columns: total (NULL unless $17), kCustomerColumns, the metrics (kMetricsColumns for
// the metric sorts, kCopiedMetricsColumns from the customer's row otherwise), sort_value (the
// sort value as text for the name; NULL for the other keys, whose value is a column
// already). An empty page is one row whose customer columns are NULL.
const std::string& customer_list_sql(domain::SortKey key, bool descending);

// The column of customer_list_sql's result whose text is the row's sort value, the
// value a cursor carries: created_at, last_contact_at or the conversation count for
// those keys, sort_value for the name.
int customer_list_cursor_column(domain::SortKey key);

// Escapes LIKE wildcards (\ % _) with a backslash, so free text matches literally.
std::string like_escape(std::string_view text);

// The digits of a query that looks like (part of) a phone number — only digits,
// spaces and + - ( ) . — with at least 3 digits; nullopt otherwise.
std::optional<std::string> search_digits(std::string_view text);

// A filter timestamp for SQL: a date-only value ("2024-05-01") means midnight UTC
// whatever the session's time zone; anything else is passed as given.
std::optional<std::string> filter_timestamp(const std::optional<std::string>& text);

}  // namespace tradesphere::db
