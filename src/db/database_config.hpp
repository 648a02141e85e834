// Where the database is: an external server (DATABASE_URL, DATABASE_ADMIN_URL)
// or the embedded cluster in the data folder, started on demand.
#pragma once

#include <optional>
#include <string>

namespace tradesphere::db {

struct DatabaseTarget {
  std::string app_url;    // tradesphere_app: what the service uses
  std::string admin_url;  // the schema owner: what migrations use
  bool embedded = false;
};

struct DatabaseOptions {
  std::string data_dir = "var";          // TRADESPHERE_DATA_DIR
  std::optional<int> db_port;            // TRADESPHERE_DB_PORT (embedded only)
  std::optional<std::string> database_url;        // DATABASE_URL
  std::optional<std::string> database_admin_url;  // DATABASE_ADMIN_URL
};

// Reads DATABASE_URL, DATABASE_ADMIN_URL, TRADESPHERE_DATA_DIR, TRADESPHERE_DB_PORT.
DatabaseOptions database_options_from_env();

// With a database URL, returns it untouched; otherwise starts the embedded
// cluster when it is not running (ensure_running) and returns its URLs.
DatabaseTarget resolve_database(const DatabaseOptions& options, bool ensure_running = true);

}  // namespace tradesphere::db
