// List filters for CustomerCrudService::get_customers, parsed from HTTP query
// parameters (or built by code and checked with validate_customer_filters).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.hpp"

namespace tradesphere::domain {

enum class SortKey { kName, kCreatedAt, kLastContact, kConversationCount };

// "name" | "created_at" | "last_contact" | "conversation_count"
const char* to_string(SortKey key) noexcept;
// Throws ValidationError(field, ...) for anything else.
SortKey parse_sort_key(std::string_view text, std::string_view field = "sort");
// The direction used when the caller gives none: ascending for kName,
// descending (newest / most first) for the others.
bool default_descending(SortKey key) noexcept;

inline constexpr int kDefaultLimit = 50;
inline constexpr int kMaxLimit = 1000;
inline constexpr std::size_t kMaxQueryLength = 200;
inline constexpr std::size_t kMaxCursorLength = 2048;

struct CustomerFilters {
  std::optional<LifecycleStage> stage;
  std::vector<std::string> tags_any;  // normalized (normalize_tags); match if the customer has any
  std::vector<std::string> tags_all;  // normalized; match if the customer has all
  std::optional<CustomerSource> source;
  // ISO-8601 texts as accepted by is_iso8601_timestamp(…, allow_date_only=true);
  // "from" is inclusive, "to" exclusive. Passed to SQL as timestamptz.
  std::optional<std::string> created_from;
  std::optional<std::string> created_to;
  std::optional<std::string> last_contact_from;
  std::optional<std::string> last_contact_to;
  std::optional<bool> has_email;
  std::optional<bool> has_phone;
  std::optional<std::string> query;  // free text, trimmed, 1..200 chars
  SortKey sort = SortKey::kCreatedAt;
  bool descending = true;
  int limit = kDefaultLimit;  // 1..1000, never clamped
  std::optional<std::string> cursor;  // opaque, from a previous page (see cursor.hpp)
  bool include_total = false;

  bool operator==(const CustomerFilters&) const = default;
};

// Accepted query parameters (each at most once; unknown ones are rejected):
//   lifecycle_stage   prospect|lead|customer|churned
//   tags_any, tags_all  comma-separated tags (normalized; empty value = no filter)
//   source            chat|manual|import|api
//   created_from, created_to, last_contact_from, last_contact_to   ISO-8601
//                     (date-only allowed; a zone is required on date-times)
//   has_email, has_phone   true|false|1|0
//   q                 free text (trimmed; empty = no filter; at most 200 chars)
//   sort              name|created_at|last_contact|conversation_count (default created_at)
//   order             asc|desc (default: asc for name, desc otherwise)
//   limit             integer 1..1000 (default 50)
//   cursor            the next_cursor of a previous page; must have been issued for
//                     the same sort and order
//   include_total     true|false|1|0
// Throws one ValidationError naming every bad parameter.
CustomerFilters parse_customer_filters(const std::map<std::string, std::string>& query_params);

// The filters of GET /v1/customers/export and `tradesphere export`: the same
// parameters and checks as parse_customer_filters, without paging — limit,
// cursor and include_total are refused (an export is always the whole filtered
// list, in the list's sort order). Throws one ValidationError naming every bad
// parameter.
CustomerFilters parse_customer_export_filters(const std::map<std::string, std::string>& query_params);

// Checks filters built in code (e.g. by the legacy facade): limit range, tags
// already normalized, timestamps and ranges (from <= to), query length, cursor
// consistent with sort/order. Throws one ValidationError naming every bad field.
void validate_customer_filters(const CustomerFilters& filters);

}  // namespace tradesphere::domain
