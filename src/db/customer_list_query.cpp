#include "db/customer_list_query.hpp"

#include <array>
#include <cctype>

#include "db/customer_rows.hpp"

namespace tradesphere::db {
namespace {

// ---------------------------------------------------------------------------
// List page: one statement. The outer one-row query carries the total (an
// uncorrelated scalar subquery, evaluated only when $17 is true); the page is a
// LATERAL subquery, so an empty page still yields one row (with NULL columns).
// The conditions on the customer are shared by the count and the page (alias c);
// the last-contact bounds read the metrics row (alias m) in each its own way.
// Parameters:
//   $1 company  $2 stage  $3 tags_any (jsonb array)  $4 tags_all (jsonb array)
//   $5 source  $6/$7 created from/to  $8/$9 last contact from/to
//   $10 has_email  $11 has_phone  $12 free text (LIKE-escaped)  $18 its digits
//   $13 has cursor  $14 cursor value (NULL = the row's sort value was NULL)  $15 cursor id
//   $16 limit + 1  $17 include total
// ---------------------------------------------------------------------------
// The conditions on the customer's own columns, shared by the page and the total.
constexpr const char* kCustomerFilters = R"SQL(
c.company_id = $1::uuid AND c.status = 'active'
AND ($2::text IS NULL OR c.lifecycle_stage = $2::text)
AND ($3::jsonb IS NULL OR c.tags && ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))
AND ($4::jsonb IS NULL OR c.tags @> ARRAY(SELECT jsonb_array_elements_text($4::jsonb)))
AND ($5::text IS NULL OR c.source = $5::text)
AND ($6::timestamptz IS NULL OR c.created_at >= $6::timestamptz)
AND ($7::timestamptz IS NULL OR c.created_at < $7::timestamptz)
AND ($10::boolean IS NULL OR (coalesce(c.email, '') <> '') = $10::boolean)
AND ($11::boolean IS NULL OR (coalesce(c.phone, '') <> '') = $11::boolean)
AND ($12::text IS NULL OR c.name ILIKE '%' || $12::text || '%'
     OR lower(c.email) LIKE '%' || lower($12::text) || '%'
     OR ($18::text IS NOT NULL AND phone_digits(c.phone) LIKE '%' || $18::text || '%'))
)SQL";

// A page driven by customer_metrics reads the metrics row of each customer (joined as m).
constexpr const char* kLastContactFilters = R"SQL(
AND ($8::timestamptz IS NULL OR m.last_contact_at >= $8::timestamptz)
AND ($9::timestamptz IS NULL OR m.last_contact_at < $9::timestamptz)
)SQL";
// A page driven by customers reads the copy of the metrics on the customer's row
// (migration 0040: the same values, kept exact by customer_metrics' triggers).
constexpr const char* kCopiedLastContactFilters = R"SQL(
AND ($8::timestamptz IS NULL OR c.metric_last_contact_at >= $8::timestamptz)
AND ($9::timestamptz IS NULL OR c.metric_last_contact_at < $9::timestamptz)
)SQL";

// The total counts customers only; a last-contact bound reads the copy on the
// customer's row (0040). Without any filter but the stage it is the sum of the
// company's stage counts (migration 0049, a few dozen rows) instead of a count of
// every active customer (0031's index, which 0049 dropped, made that an index-only
// count; without it a stage filter read every active customer from the heap).

// True when no filter but the stage ($2) is set ($18 is derived from $12).
constexpr const char* kOnlyStageFiltered = R"SQL(
$3::jsonb IS NULL AND $4::jsonb IS NULL AND $5::text IS NULL AND $6::timestamptz IS NULL
AND $7::timestamptz IS NULL AND $8::timestamptz IS NULL AND $9::timestamptz IS NULL
AND $10::boolean IS NULL AND $11::boolean IS NULL AND $12::text IS NULL
)SQL";
constexpr const char* kStageCountTotal = R"SQL(
(SELECT coalesce(sum(s.customers), 0)::bigint FROM customer_stage_counts s
  WHERE s.company_id = $1::uuid AND ($2::text IS NULL OR s.lifecycle_stage = $2::text))
)SQL";

// Pages sorted by a customer column read customers alone: the metrics the page shows
// are copied onto the customer's row (migration 0040). The LEFT JOIN of
// customer_metrics they replace was ~1000 primary-key probes per page, ~60 % of the
// statement at 1M (docs/performance.md, "Seventh session of 2026-12-07").
constexpr const char* kListFrom = R"SQL(
FROM customers c
)SQL";

// Pages sorted by a metric are driven by customer_metrics' (company_id,
// customer_status, <metric>, customer_id) indexes: an inner join (every customer
// has a metrics row: customers_after_insert, checked by customer_metrics_drift)
// lets the planner walk the index in order and stop after the page, instead of
// sorting every active customer of the company (384 ms -> a few ms at 100k).
constexpr const char* kListFromMetrics = R"SQL(
FROM customer_metrics m
JOIN customers c ON c.company_id = m.company_id AND c.id = m.customer_id
)SQL";
constexpr const char* kMetricsActive = " AND m.company_id = $1::uuid AND m.customer_status = 'active'";

// Per sort key: the sort expression, the type of the cursor value, nullable or not.
struct SortSpec {
  const char* expr;
  const char* cast;
  bool nullable;
  bool nulls_first_when_ascending;
};

SortSpec sort_spec(domain::SortKey key) {
  switch (key) {
    case domain::SortKey::kName:
      return {"lower(c.name)", "text", true, false};
    case domain::SortKey::kCreatedAt:
      return {"c.created_at", "timestamptz", false, false};
    case domain::SortKey::kLastContact:
      return {"m.last_contact_at", "timestamptz", true, true};
    case domain::SortKey::kConversationCount:
      return {"m.conversation_count", "integer", false, false};
  }
  return {"c.created_at", "timestamptz", false, false};
}

// Builds the list statement for one (sort, direction) from constant fragments
// only (no caller data), once per combination.
//
// The position after the cursor is always a row comparison, (sort, id) > (value,
// id), which PostgreSQL turns into the start of an index range: a page deep in
// the list costs what the first one costs. A nullable sort key (name, last
// contact) is split in two parts, the rows with a value and the rows without,
// each read in index order up to the page size; NULL rows follow (or precede)
// the others, among themselves by id. (An OR of "greater, or equal and a larger
// id, or NULL" could not start an index range: the scan began at the top and
// discarded every earlier row.) Measured on 100k customers: a CSV export sorted
// by last contact (100 pages) 4.7 s, as fast as by creation date. Sorting by name
// still filters instead: under row-level security a qual may start an index range
// only when its functions are LEAKPROOF, and lower() is not (text_gt is), so
// (lower(name), id) > (...) runs as a filter on the ordered index scan (export
// by name 27 s). The fix is a stored lowercase column with its own index.
std::string build_list_sql(domain::SortKey key, bool descending) {
  const SortSpec s = sort_spec(key);
  const bool by_metric = key == domain::SortKey::kLastContact || key == domain::SortKey::kConversationCount;
  const std::string from = by_metric ? kListFromMetrics : kListFrom;
  const std::string filters = std::string(kCustomerFilters) +
                              (by_metric ? std::string(kLastContactFilters) + kMetricsActive : kCopiedLastContactFilters);
  const std::string e = s.expr;
  // the id beside the sort key in its index: customers' for customer columns, the metrics row's for metrics
  const std::string id = by_metric ? "m.customer_id" : "c.id";
  const std::string v = std::string("$14::") + s.cast;
  const std::string cmp = descending ? "<" : ">";
  const std::string dir = descending ? " DESC" : " ASC";
  const std::string after_cursor = "(" + e + ", " + id + ") " + cmp + " (" + v + ", $15::uuid)";
  const std::string id_after = id + " " + cmp + " $15::uuid";
  // The cursor needs the last row's sort value as text. For every key but the name it is
  // already a column of the page (customer_list_cursor_column), so sort_value stays NULL:
  // one timestamp less to write as text, and 25 bytes less, per row.
  const std::string sort_value = key == domain::SortKey::kName ? "(" + e + ")::text" : std::string("NULL::text");
  const std::string columns = std::string(kCustomerColumns) + ", " + (by_metric ? kMetricsColumns : kCopiedMetricsColumns) +
                              ", " + sort_value + " AS sort_value";
  auto part = [&](const std::string& where, const std::string& order, const char* rank) {
    return "(SELECT " + columns + ", " + rank + " AS sort_part, " + e + " AS sort_key, " + id + " AS sort_id " + from +
           " WHERE " + filters + " AND " + where + " ORDER BY " + order + " LIMIT $16::integer)";
  };
  std::string page;
  if (!s.nullable) {
    page = "SELECT " + columns + " " + from + " WHERE " + filters + " AND (NOT $13::boolean OR " + after_cursor +
           ") ORDER BY " + e + dir + ", " + id + dir + " LIMIT $16::integer";
  } else {
    // Where NULL values sit in the scan: after the non-NULL ones or before them.
    const bool nulls_last_in_scan = descending == s.nulls_first_when_ascending;
    // a cursor with a value ($14 not NULL) is among the rows with a value
    const std::string valued =
        part(e + " IS NOT NULL AND (NOT $13::boolean OR " +
                 (nulls_last_in_scan ? "($14::text IS NOT NULL AND " + after_cursor + ")"
                                     : "$14::text IS NULL OR " + after_cursor) +
                 ")",
             e + dir + ", " + id + dir, nulls_last_in_scan ? "0" : "1");
    const std::string nulls =
        part(e + " IS NULL AND (NOT $13::boolean OR " +
                 (nulls_last_in_scan ? "$14::text IS NOT NULL OR " + id_after : "($14::text IS NULL AND " + id_after + ")") +
                 ")",
             id + dir, nulls_last_in_scan ? "1" : "0");
    page = "SELECT u.* FROM (" + valued + " UNION ALL " + nulls + ") u ORDER BY u.sort_part, u.sort_key" + dir +
           ", u.sort_id" + dir + " LIMIT $16::integer";
  }
  std::string sql = "SELECT t.total, p.* FROM (SELECT CASE WHEN NOT $17::boolean THEN NULL WHEN ";
  sql += kOnlyStageFiltered;
  sql += " THEN ";
  sql += kStageCountTotal;
  sql += " ELSE (SELECT count(*) FROM customers c WHERE ";
  sql += kCustomerFilters;
  sql += kCopiedLastContactFilters;
  sql += ") END AS total) t LEFT JOIN LATERAL (";
  sql += page;
  sql += ") p ON true";
  return sql;
}

}  // namespace

const std::string& customer_list_sql(domain::SortKey key, bool descending) {
  static const std::array<std::string, 8> statements = [] {
    std::array<std::string, 8> a;
    const domain::SortKey keys[] = {domain::SortKey::kName, domain::SortKey::kCreatedAt,
                                    domain::SortKey::kLastContact, domain::SortKey::kConversationCount};
    for (int k = 0; k < 4; ++k) {
      a[k * 2] = build_list_sql(keys[k], false);
      a[k * 2 + 1] = build_list_sql(keys[k], true);
    }
    return a;
  }();
  return statements[static_cast<int>(key) * 2 + (descending ? 1 : 0)];
}


int customer_list_cursor_column(domain::SortKey key) {
  constexpr int kCustomer = 1;                             // after total
  constexpr int kMetrics = kCustomer + kCustomerColumnCount;
  switch (key) {
    case domain::SortKey::kCreatedAt:
      return kCustomer + 15;  // c.created_at::text
    case domain::SortKey::kLastContact:
      return kMetrics + 3;  // m.last_contact_at::text
    case domain::SortKey::kConversationCount:
      return kMetrics;  // coalesce(m.conversation_count, 0): the inner join's count itself
    case domain::SortKey::kName:
      break;
  }
  return kMetrics + kMetricsColumnCount;  // sort_value: lower(c.name)::text
}

std::string like_escape(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\\' || ch == '%' || ch == '_') out += '\\';
    out += ch;
  }
  return out;
}

std::optional<std::string> search_digits(std::string_view text) {
  std::string digits;
  for (char ch : text) {
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      digits += ch;
    } else if (std::string_view(" +-().").find(ch) == std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (digits.size() < 3) return std::nullopt;
  return digits;
}

std::optional<std::string> filter_timestamp(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  if (text->size() == 10) return *text + "T00:00:00Z";
  return text;
}

}  // namespace tradesphere::db
