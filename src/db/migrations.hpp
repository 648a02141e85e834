// Versioned SQL migrations: migrations/NNNN_name.up.sql + NNNN_name.down.sql,
// embedded at build time, applied one transaction each by the owner role,
// recorded in schema_migrations with the SHA-256 of the up file.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "db/embedded_migrations.hpp"


namespace tradesphere::db {

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Migration {
  int version = 0;
  std::string name;      // "legacy_baseline"
  std::string up_file;   // "0001_legacy_baseline.up.sql"
  std::string down_file;
  std::string up_sql;
  std::string down_sql;
  std::string checksum;  // sha256 hex of up_sql
};

// Pure: pairs up/down files, validates names and numbering. Throws MigrationError.
std::vector<Migration> load_migrations(const std::vector<EmbeddedFile>& files);
// The migrations compiled into this binary.
const std::vector<Migration>& builtin_migrations();

struct MigrationState {
  int version = 0;
  std::string name;
  bool applied = false;
  std::string applied_at;  // empty when pending
  bool checksum_ok = true;  // false when the file changed after it was applied
};

struct MigrationLog {
  std::function<void(const std::string&)> info = [](const std::string&) {};
};

// Runs step (one migration's whole transaction) again when it lost a deadlock (40P01)
// or a serialization conflict (40001) to another session: 5 attempts, 100/200/...ms
// apart; the last failure, and every other error, propagates.
void run_migration_step(const MigrationLog& log, const std::string& file, const std::function<void()>& step);

// ANALYZE the tables of schema public that the connected role owns (`tables`: only
// these names, when given; tables it does not own are skipped, not warned about).
// After `migrate up` and before `backfill` plans its first queries: migrations fill
// tables in bulk, and until autovacuum gets to them the planner works from the
// statistics of before (the backfill's shared-email query ran 105 s instead of 0.4 s
// on 50k legacy customers right after `migrate up`).
void analyze_owned_tables(pqxx::connection& conn, const std::vector<std::string>& tables = {});

// The legacy shape that `migrate adopt` recognises: version 1.
inline constexpr int kLegacyBaselineVersion = 1;

class MigrationRunner {
 public:
  MigrationRunner(std::string admin_url, std::vector<Migration> migrations = builtin_migrations(),
                  MigrationLog log = {});

  // Applies pending migrations up to `to` (all when unset). Returns how many ran.
  int up(std::optional<int> to = std::nullopt);
  // Reverts applied migrations above `to` (to 0 when unset). Returns how many ran.
  int down(std::optional<int> to = std::nullopt);
  std::vector<MigrationState> status();
  // Highest applied version (0 when none) after verifying checksums.
  int current_version();
  int latest_version() const;
  // True when every known migration is applied and no applied file changed.
  bool is_current();
  // Records `version` as applied without running it (`migrate adopt` of a live
  // legacy database). Refuses when any migration is already recorded.
  void mark_applied_without_running(int version);
  // True when the database has a schema_migrations table with at least one row.
  bool has_history();

 private:
  std::string admin_url_;
  std::vector<Migration> migrations_;
  MigrationLog log_;
};

}  // namespace tradesphere::db
