// Shared by the legacy upgrade's parts (legacy_adopt.cpp, legacy_backfill.cpp,
// legacy_verify.cpp, legacy_rollback.cpp): the legacy tables and how a row of
// each is hashed, and small helpers. Not a public header.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

namespace tradesphere::db::legacy {


// The legacy tables, their columns in order, and how to hash a row of each
// over the legacy columns only (the upgrade adds columns; those don't count).
struct LegacyTable {
  const char* name;       // SQL identifier, quoted where needed
  const char* label;      // as shown to people
  std::vector<std::pair<const char*, const char*>> columns;  // name, information_schema data_type
  const char* key;        // row key expression
  const char* hash;       // row hash expression over the legacy columns
  const char* company;    // company expression (may use the alias t)
  bool values_checked;    // false: presence only (customers: users may legitimately edit them)
};

// Hashes read every column cast to its baseline type, so a row hashes the same
// before and after `migrate up` normalizes the legacy shape (varchar -> text,
// timestamp -> timestamptz read as UTC: every connection here uses TimeZone UTC,
// integer -> bigint, canonical text uuids -> uuid) and again after the rollback.
inline const std::vector<LegacyTable>& legacy_tables() {
  static const std::vector<LegacyTable> tables = {
      {"companies", "companies", {{"id", "uuid"}, {"slug", "text"}, {"name", "text"}}, "t.id::text",
       "md5(ROW(t.id::uuid, t.slug::text, t.name::text)::text)", "t.id::text", true},
      {"app_users", "app_users", {{"tech_id", "text"}, {"company_id", "uuid"}, {"role", "text"}}, "t.tech_id::text",
       "md5(ROW(t.tech_id::text, t.company_id::uuid, t.role::text)::text)", "t.company_id::text", true},
      {"\"VC Usage\"", "VC Usage",
       {{"id", "bigint"}, {"session_id", "text"}, {"tech_id", "text"}, {"customer_name", "text"},
        {"customer_email", "text"}, {"customer_phone", "text"}, {"user_message", "text"}, {"ai_response", "text"},
        {"created_at", "timestamp with time zone"}},
       "t.id::text",
       "md5(ROW(t.id::bigint, t.session_id::text, t.tech_id::text, t.customer_name::text, t.customer_email::text, "
       "t.customer_phone::text, t.user_message::text, t.ai_response::text, t.created_at::timestamptz)::text)",
       // min(): a legacy app_users may hold identical copies of a user (parked by the normalization)
       "(SELECT min(u.company_id::text) FROM app_users u WHERE u.tech_id::text = t.tech_id::text)", true},
      {"customers", "customers",
       {{"id", "uuid"}, {"company_id", "uuid"}, {"name", "text"}, {"email", "text"}, {"phone", "text"},
        {"created_at", "timestamp with time zone"}},
       "t.id::text",
       "md5(ROW(t.id::uuid, t.company_id::uuid, t.name::text, t.email::text, t.phone::text, "
       "t.created_at::timestamptz)::text)",
       "t.company_id::text", false},
  };
  return tables;
}

// Open sync failures by cause, largest first, with one example message each
// (backfill's report and verify).
inline constexpr const char* kOpenFailureCauses = R"sql(
SELECT reason, coalesce(sqlstate, ''), min(message), count(DISTINCT (company_id, vc_usage_id))
  FROM chat_sync_failures WHERE resolved_at IS NULL
 GROUP BY 1, 2 ORDER BY 4 DESC, 1, 2)sql";

bool table_exists(pqxx::transaction_base& tx, const std::string& name);

// Every connection of the upgrade hashes timestamps in UTC so text forms agree.
void utc(pqxx::transaction_base& tx);

bool new_schema_present(pqxx::transaction_base& tx);

}  // namespace tradesphere::db::legacy
