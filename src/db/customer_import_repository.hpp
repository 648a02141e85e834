// Bulk insert of imported customers (tradesphere import): one multi-row
// INSERT … SELECT FROM jsonb_to_recordset per batch, source 'import'.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/database.hpp"

namespace tradesphere::db {

struct ImportRow {
  std::optional<std::string> external_id, name, email, phone, address, notes;
  std::vector<std::string> tags;
  std::string lifecycle_stage = "prospect";
  nlohmann::json attributes = nlohmann::json::object();
};

struct ImportBatchResult {
  std::size_t inserted = 0;
  std::vector<std::string> existing_external_ids;  // skipped: the company already has them
};

// Inserts the rows in one statement; rows whose external_id exists are skipped
// (ON CONFLICT DO NOTHING) and listed.
ImportBatchResult insert_import_batch(Tx& tx, const std::string& company_id, const std::vector<ImportRow>& rows);

}  // namespace tradesphere::db
