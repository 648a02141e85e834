// Bulk insert of imported customers (tradesphere import): one multi-row
// INSERT … SELECT FROM jsonb_to_recordset per batch, source 'import'.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/existing_email.hpp"

namespace tradesphere::db {

class Tx;

struct ImportRow {
  std::optional<std::string> external_id, name, email, phone, address, notes;
  std::vector<std::string> tags;
  std::string lifecycle_stage = "prospect";
  nlohmann::json attributes = nlohmann::json::object();
};

// The value (domain/existing_email.hpp), by its name in this layer.
using domain::ExistingEmail;

struct ExistingEmailRow {
  std::size_t index = 0;    // into the batch
  std::string customer_id;  // the active customer holding the email
};

struct ImportBatchResult {
  std::size_t inserted = 0;
  std::vector<std::string> existing_external_ids;  // skipped: the company already has them
  std::vector<ExistingEmailRow> existing_emails;   // kSkip: skipped; kUpdate: applied to the customer
};

// Inserts the rows; rows whose external_id exists are skipped (ON CONFLICT DO
// NOTHING) and listed. With kSkip or kUpdate, a row whose email belongs to an
// active customer (before the batch or from an earlier row of it) is skipped or
// applied to that customer and listed; emails are compared with the database's
// normalize_email(), the matching keys' own.
ImportBatchResult insert_import_batch(Tx& tx, const std::string& company_id, const std::vector<ImportRow>& rows,
                                      ExistingEmail on_existing_email = ExistingEmail::kKeep);

}  // namespace tradesphere::db
