#include "db/customer_import_repository.hpp"

#include <set>

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

nlohmann::json opt(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

ImportBatchResult insert_import_batch(Tx& tx, const std::string& company_id, const std::vector<ImportRow>& rows) {
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

}  // namespace tradesphere::db
