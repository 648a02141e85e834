#include "db/enrichment_repository.hpp"

#include "db/customer_rows.hpp"
#include "db/merge_repository.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kLockEnrichmentTarget = R"SQL(
SELECT c.id::text, c.status, c.name, c.email, c.phone, c.address, c.notes, cardinality(c.tags),
       coalesce((SELECT co.default_country_code FROM companies co WHERE co.id = c.company_id), '1')
  FROM customers c
 WHERE c.company_id = $1 AND c.id = $2
   FOR UPDATE OF c
)SQL";

constexpr const char* kSelectChatMessages = R"SQL(
SELECT v.id, coalesce(v.session_id, ''), coalesce(v.user_message, ''), coalesce(v.ai_response, ''),
       v.created_at::text
  FROM "VC Usage" v
 WHERE v.company_id = $1 AND v.customer_id = $2
 ORDER BY v.created_at, v.id
)SQL";

constexpr const char* kFillEmptyContactFields = R"SQL(
UPDATE customers
   SET name = CASE WHEN nullif(btrim(name), '') IS NULL THEN coalesce($3, name) ELSE name END,
       email = CASE WHEN nullif(btrim(email), '') IS NULL THEN coalesce($4, email) ELSE email END,
       phone = CASE WHEN nullif(btrim(phone), '') IS NULL THEN coalesce($5, phone) ELSE phone END
 WHERE company_id = $1 AND id = $2
RETURNING version
)SQL";

const std::string kUpdateNotes = R"SQL(
UPDATE customers AS c SET notes = $3
 WHERE c.company_id = $1 AND c.id = $2 AND c.status = 'active'
   AND ($4::integer IS NULL OR c.version = $4::integer)
RETURNING )SQL" + std::string(kCustomerColumns);

constexpr const char* kActiveCustomerVersion =
    "SELECT version FROM customers WHERE company_id = $1 AND id = $2 AND status = 'active'";

constexpr const char* kCustomerVisible = "SELECT 1 FROM customers WHERE company_id = $1 AND id = $2";

}  // namespace

bool customer_visible(Tx& tx, const std::string& company_id, const std::string& id) {
  return tx.exec01(kCustomerVisible, company_id, id).has_value();
}

std::optional<EnrichmentTarget> lock_enrichment_target(Tx& tx, const std::string& company_id, const std::string& id) {
  auto r = tx.exec01(kLockEnrichmentTarget, company_id, id);
  if (!r) return std::nullopt;
  const auto& row = *r;
  EnrichmentTarget t;
  t.id = row[0].as<std::string>();
  t.status = row[1].as<std::string>();
  t.name = row[2].as<std::optional<std::string>>();
  t.email = row[3].as<std::optional<std::string>>();
  t.phone = row[4].as<std::optional<std::string>>();
  t.address = row[5].as<std::optional<std::string>>();
  t.notes = row[6].as<std::optional<std::string>>();
  t.tag_count = row[7].as<std::size_t>();
  t.default_country_code = row[8].as<std::string>();
  return t;
}

std::vector<domain::ChatMessage> load_chat_messages(Tx& tx, const std::string& company_id, const std::string& id) {
  std::vector<domain::ChatMessage> out;
  for (const auto& r : tx.exec(kSelectChatMessages, company_id, id))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   domain::rfc3339_or_same(r[4].as<std::string>())});
  return out;
}

int fill_empty_contact_fields(Tx& tx, const std::string& company_id, const std::string& id,
                              const std::optional<std::string>& name, const std::optional<std::string>& email,
                              const std::optional<std::string>& phone) {
  return tx.exec1(kFillEmptyContactFields, company_id, id, name, email, phone)[0].as<int>();
}

std::optional<domain::Customer> update_notes(Tx& tx, const std::string& company_id, const std::string& id,
                                             const std::optional<std::string>& notes,
                                             std::optional<int> expected_version) {
  const std::optional<std::string> version =
      expected_version ? std::optional<std::string>(std::to_string(*expected_version)) : std::nullopt;
  auto r = tx.exec01(kUpdateNotes, company_id, id, notes, version);
  if (!r) return std::nullopt;
  return customer_from_row(*r);
}

std::optional<int> active_customer_version(Tx& tx, const std::string& company_id, const std::string& id) {
  auto r = tx.exec01(kActiveCustomerVersion, company_id, id);
  if (!r) return std::nullopt;
  return (*r)[0].as<int>();
}

}  // namespace tradesphere::db
