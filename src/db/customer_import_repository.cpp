#include "db/customer_import_repository.hpp"

#include <algorithm>
#include <set>

#include "db/database.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kInsertImportBatch = R"SQL(
WITH ins AS (
  INSERT INTO customers (company_id, external_id, name, email, phone, address, notes, tags, lifecycle_stage,
                         attributes, source)
  SELECT $1, x.external_id, x.name, x.email, x.phone, x.address, x.notes, coalesce(x.tags, '{}'),
         x.lifecycle_stage, coalesce(x.attributes, '{}'::jsonb), 'import'
    FROM jsonb_to_recordset($2::jsonb) AS x (external_id text, name text, email text, phone text, address text,
                                             notes text, tags text[], lifecycle_stage text, attributes jsonb)
  ON CONFLICT (company_id, external_id) DO NOTHING
  RETURNING external_id
)
SELECT count(*), coalesce(jsonb_agg(external_id) FILTER (WHERE external_id IS NOT NULL), '[]'::jsonb)::text FROM ins
)SQL";

// Per raw email (1-based position in the jsonb array $2): its normalized form and the active
// customer holding it (oldest first, as the chat sync's lookup).
constexpr const char* kEmailOwners = R"SQL(
SELECT e.i, normalize_email(e.raw), o.customer_id::text
  FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS e (raw, i)
  LEFT JOIN LATERAL (
    SELECT k.customer_id FROM customer_matching_keys k
      JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active'
     WHERE k.company_id = $1 AND k.key_type = 'email' AND k.key_value = normalize_email(e.raw)
     ORDER BY c.created_at, c.id LIMIT 1) o ON true
)SQL";

// The chat sync's locks of the batch's emails (migration 0050), ascending, in one
// statement: a chat sync or API write creating a customer for one of them waits for
// this batch, or this batch for it, so the owners read next stay the owners.
constexpr const char* kLockEmails = R"SQL(
SELECT chat_sync_lock_contacts($1::uuid, '{}'::text[],
                               ARRAY(SELECT e FROM jsonb_array_elements_text($2::jsonb) e), '{}'::text[])
)SQL";

constexpr const char* kUpdateFromImport = R"SQL(
UPDATE customers c
   SET name = coalesce(x.name, c.name), phone = coalesce(x.phone, c.phone),
       address = coalesce(x.address, c.address), notes = coalesce(x.notes, c.notes),
       tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || coalesce(x.tags, '{}')) AS t ORDER BY t)
  FROM jsonb_to_recordset($2::jsonb) AS x (id uuid, name text, phone text, address text, notes text, tags text[])
 WHERE c.company_id = $1 AND c.id = x.id AND c.status = 'active'
)SQL";

nlohmann::json opt(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

ImportBatchResult insert_rows(Tx& tx, const std::string& company_id, const std::vector<ImportRow>& rows) {
  if (rows.empty()) return {};
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : rows)
    arr.push_back({{"external_id", opt(r.external_id)},
                   {"name", opt(r.name)},
                   {"email", opt(r.email)},
                   {"phone", opt(r.phone)},
                   {"address", opt(r.address)},
                   {"notes", opt(r.notes)},
                   {"tags", r.tags},
                   {"lifecycle_stage", r.lifecycle_stage},
                   {"attributes", r.attributes}});
  auto res = tx.exec1(kInsertImportBatch, company_id, arr.dump());
  ImportBatchResult out;
  out.inserted = res[0].as<std::size_t>();
  std::set<std::string> inserted;
  for (const auto& e : nlohmann::json::parse(res[1].as<std::string>())) inserted.insert(e.get<std::string>());
  for (const auto& r : rows)
    if (r.external_id && !inserted.count(*r.external_id)) out.existing_external_ids.push_back(*r.external_id);
  return out;
}

}  // namespace

ImportBatchResult insert_import_batch(Tx& tx, const std::string& company_id, const std::vector<ImportRow>& rows,
                                      ExistingEmail on_existing_email) {
  if (on_existing_email == ExistingEmail::kKeep) return insert_rows(tx, company_id, rows);
  ImportBatchResult out;
  std::vector<std::size_t> pending(rows.size());
  nlohmann::json all_emails = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    pending[i] = i;
    all_emails.push_back(opt(rows[i].email));
  }
  tx.exec1(kLockEmails, company_id, all_emails.dump());
  // Rounds: a row whose email no active customer holds is inserted, unless an
  // earlier row of the batch has the same email: that one goes first and the
  // later rows meet it as the holder in the next round.
  while (!pending.empty()) {
    nlohmann::json emails = nlohmann::json::array();
    for (auto i : pending) emails.push_back(opt(rows[i].email));
    std::vector<std::size_t> insert_now, later;
    std::set<std::string> taken;
    for (const auto& r : tx.exec(kEmailOwners, company_id, emails.dump())) {
      const std::size_t index = pending[r[0].as<std::size_t>() - 1];
      if (!r[2].is_null()) {
        out.existing_emails.push_back({index, r[2].as<std::string>()});
      } else if (r[1].is_null() || taken.insert(r[1].as<std::string>()).second) {
        insert_now.push_back(index);
      } else {
        later.push_back(index);
      }
    }
    std::vector<ImportRow> batch;
    for (auto i : insert_now) batch.push_back(rows[i]);
    auto inserted = insert_rows(tx, company_id, batch);
    out.inserted += inserted.inserted;
    out.existing_external_ids.insert(out.existing_external_ids.end(), inserted.existing_external_ids.begin(),
                                     inserted.existing_external_ids.end());
    std::sort(later.begin(), later.end());
    pending.swap(later);
  }
  std::sort(out.existing_emails.begin(), out.existing_emails.end(),
            [](const ExistingEmailRow& a, const ExistingEmailRow& b) { return a.index < b.index; });
  if (on_existing_email == ExistingEmail::kUpdate && !out.existing_emails.empty()) {
    nlohmann::json arr = nlohmann::json::array();
    std::set<std::string> seen;
    // one update per customer: the last row of the batch for it wins
    for (auto it = out.existing_emails.rbegin(); it != out.existing_emails.rend(); ++it) {
      if (!seen.insert(it->customer_id).second) continue;
      const auto& r = rows[it->index];
      arr.push_back({{"id", it->customer_id}, {"name", opt(r.name)}, {"phone", opt(r.phone)},
                     {"address", opt(r.address)}, {"notes", opt(r.notes)}, {"tags", r.tags}});
    }
    tx.exec(kUpdateFromImport, company_id, arr.dump());
  }
  return out;
}

}  // namespace tradesphere::db
