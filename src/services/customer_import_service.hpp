// Customer CSV import, shared by `tradesphere import` and POST /v1/customers/import
// (the console's Import screen): the same parsing, rules and line-numbered messages.
//
// RFC 4180 CSV with a header (domain/csv.hpp explains why the parser is our own).
// Known columns: external_id,name,email,phone,address,notes,tags,lifecycle_stage
// (any subset, any order; header names are trimmed and lower-cased); any other
// column goes into `attributes` (string values; empty cells are left out). Each valid row
// becomes one customer with source 'import' (no automatic merging). Invalid rows
// are rejected with "line N: reason". A malformed email or an implausible phone does
// not cost the row (issue 13): the raw value (trimmed) goes to
// attributes.invalid_email / attributes.invalid_phone, the email/phone column stays
// empty (it feeds matching keys and chat sync), and the line gets a warning;
// `strict` rejects such rows instead. Rows are inserted 1000 per statement, one
// transaction per batch.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "db/customer_import_repository.hpp"
#include "domain/existing_email.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

// The file cannot be read at all (no header line, a header column without a name
// or named twice): nothing was imported.
class ImportFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a row whose email already belongs to an active customer does (keep | skip | update).
// "keep" | "skip" | "update"; nullopt for anything else.
std::optional<domain::ExistingEmail> parse_existing_email(std::string_view text) noexcept;

struct ImportOptions {
  bool strict = false;
  domain::ExistingEmail on_existing_email = domain::ExistingEmail::kKeep;
};

// One line-numbered message, in the order the lines were settled.
struct ImportMessage {
  enum class Kind { kRejected, kWarning, kSkipped, kUpdated };
  std::size_t line = 0;  // physical line of the file where the record starts (header = 1)
  Kind kind = Kind::kRejected;
  std::string text;                 // the reason, without "line N: "
  std::string customer_id;          // kSkipped / kUpdated: the customer holding the email
};
const char* to_string(ImportMessage::Kind kind) noexcept;

struct ImportReport {
  std::size_t rows = 0;  // records after the header
  std::size_t imported = 0, rejected = 0, warnings = 0, skipped = 0, updated = 0;
};

struct ImportCallbacks {
  std::function<void(const ImportMessage&)> on_message;
  // after each batch: the report so far and the bytes of input read
  std::function<void(const ImportReport&, std::size_t bytes_read)> on_progress;
};

class CustomerImportService {
 public:
  static constexpr std::size_t kBatch = 1000;
  explicit CustomerImportService(db::Database& db) : db_(db) {}
  // PermissionError for a viewer; ImportFileError for an unreadable header.
  ImportReport import_csv(const domain::RequestContext& ctx, std::istream& in, const ImportOptions& options,
                          const ImportCallbacks& callbacks = {});

 private:
  db::Database& db_;
};

}  // namespace tradesphere::services
