#include "db/migrations.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <thread>
#include <chrono>

#include <pqxx/pqxx>

#include "common/crypto.hpp"
#include "db/legacy_normalization.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {

// One migration step is one transaction, so a step that lost a deadlock (40P01) or a
// serialization conflict (40001) to another session — DDL takes AccessExclusiveLocks
// table by table, and a rollback may run while other sessions still use the tables —
// has changed nothing and runs again (a few times, with a short pause). Any other error,
// and a commit whose outcome is unknown, ends the run as before.
void run_migration_step(const MigrationLog& log, const std::string& file, const std::function<void()>& step) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    try {
      step();
      return;
    } catch (const pqxx::deadlock_detected&) {
      if (attempt >= kAttempts) throw;
      log.info(file + ": deadlock with another session, running the step again (" + std::to_string(attempt) + ")");
    } catch (const pqxx::serialization_failure&) {
      if (attempt >= kAttempts) throw;
      log.info(file + ": serialization conflict, running the step again (" + std::to_string(attempt) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
}

namespace {

// One advisory-lock key for every migration runner of a database.
constexpr long long kMigrationLockKey = 0x7472616465;  // "trade"

constexpr const char* kCreateSchemaMigrations = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";
// /readyz runs as the application role and compares versions.
constexpr const char* kGrantSchemaMigrations = R"sql(
DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tradesphere_app') THEN
    GRANT SELECT ON schema_migrations TO tradesphere_app;
  END IF;
END $$)sql";
constexpr const char* kSelectApplied =
    "SELECT version, name, checksum, applied_at::text FROM schema_migrations ORDER BY version";
constexpr const char* kInsertApplied = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";
constexpr const char* kDeleteApplied = "DELETE FROM schema_migrations WHERE version = $1";

struct Applied {
  std::string name;
  std::string checksum;
  std::string applied_at;
};

// Session-level advisory lock held for the whole run: a second runner waits,
// then sees what the first applied.
class MigrationLock {
 public:
  explicit MigrationLock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    tx.exec(kCreateSchemaMigrations);
    tx.exec(kGrantSchemaMigrations);
  }
  ~MigrationLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    } catch (...) {
      // The session ends right after; PostgreSQL releases the lock with it.
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  pqxx::connection& conn_;
};

std::map<int, Applied> read_applied(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::map<int, Applied> out;
  for (const auto& row : tx.exec(kSelectApplied)) {
    out[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>(),
                                   domain::rfc3339_or_same(row[3].as<std::string>())};
  }
  return out;
}

void verify_applied(const std::map<int, Applied>& applied, const std::vector<Migration>& migrations) {
  for (const auto& [version, a] : applied) {
    auto it = std::find_if(migrations.begin(), migrations.end(), [&](const Migration& m) { return m.version == version; });
    if (it == migrations.end()) {
      throw MigrationError("the database has migration " + std::to_string(version) + " (" + a.name +
                           ") that this build does not know; use a newer build");
    }
    if (it->checksum != a.checksum) {
      throw MigrationError("migrations/" + it->up_file +
                           " changed after it was applied (checksum differs). Never edit an applied migration: "
                           "revert the file and add a new migration instead.");
    }
  }
}

}  // namespace

std::vector<Migration> load_migrations(const std::vector<EmbeddedFile>& files) {
  static const std::regex kName(R"(^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$)");
  std::map<int, Migration> by_version;
  for (const auto& f : files) {
    std::cmatch m;
    if (!std::regex_match(f.name, m, kName)) {
      throw MigrationError(std::string("migration file name not understood: ") + f.name +
                           " (expected NNNN_name.up.sql or NNNN_name.down.sql)");
    }
    int version = std::stoi(m[1].str());
    if (version <= 0) throw MigrationError(std::string("migration version must be positive: ") + f.name);
    auto& mig = by_version[version];
    if (mig.version != 0 && mig.name != m[2].str()) {
      throw MigrationError("two migrations share version " + m[1].str() + ": " + mig.name + " and " + m[2].str());
    }
    mig.version = version;
    mig.name = m[2].str();
    if (m[3].str() == "up") {
      mig.up_file = f.name;
      mig.up_sql = std::string(f.content);
      mig.checksum = common::sha256_hex(f.content);
    } else {
      mig.down_file = f.name;
      mig.down_sql = std::string(f.content);
    }
  }
  std::vector<Migration> out;
  int expected = 1;
  for (auto& [version, mig] : by_version) {
    if (version != expected) {
      throw MigrationError("migration versions must be consecutive: expected " + std::to_string(expected) +
                           ", found " + std::to_string(version));
    }
    if (mig.up_file.empty()) throw MigrationError("migration " + mig.down_file + " has no .up.sql");
    if (mig.down_file.empty()) throw MigrationError("migration " + mig.up_file + " has no .down.sql (every migration needs a tested down)");
    out.push_back(std::move(mig));
    ++expected;
  }
  return out;
}

const std::vector<Migration>& builtin_migrations() {
  static const std::vector<Migration> migrations = load_migrations(embedded_migration_files());
  return migrations;
}

MigrationRunner::MigrationRunner(std::string admin_url, std::vector<Migration> migrations, MigrationLog log)
    : admin_url_(std::move(admin_url)), migrations_(std::move(migrations)), log_(std::move(log)) {}

int MigrationRunner::latest_version() const { return migrations_.empty() ? 0 : migrations_.back().version; }

void analyze_owned_tables(pqxx::connection& conn, const std::vector<std::string>& tables) {
  std::string only;  // table names have no commas
  for (const auto& t : tables) only += (only.empty() ? "" : ",") + t;
  pqxx::work tx(conn);
  const auto names = tx.exec_params(R"sql(
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND pg_has_role(current_user, c.relowner, 'USAGE')
   AND ($1 = '' OR c.relname = ANY (string_to_array($1, ',')))
 ORDER BY 1)sql", only);
  std::string sql;
  for (const auto& n : names) sql += (sql.empty() ? "ANALYZE " : ", ") + n[0].as<std::string>();
  if (!sql.empty()) tx.exec(sql);
  tx.commit();
}

int MigrationRunner::up(std::optional<int> to) {
  int target = to.value_or(latest_version());
  if (target < 0 || target > latest_version()) {
    throw MigrationError("no migration " + std::to_string(target) + " (latest is " + std::to_string(latest_version()) + ")");
  }
  pqxx::connection conn(admin_url_);
  MigrationLock lock(conn);
  auto applied = read_applied(conn);
  verify_applied(applied, migrations_);
  int ran = 0;
  for (const auto& m : migrations_) {
    if (m.version > target) break;
    if (applied.count(m.version)) continue;
    try {
      run_migration_step(log_, m.up_file, [&] {
        pqxx::work tx(conn);
        if (m.version == kLegacyBaselineVersion + 1) {
          // An adopted legacy database: its recorded normalization plan first (same transaction).
          if (int steps = apply_legacy_normalization(tx); steps > 0) {
            log_.info("normalized the adopted legacy shape: " + std::to_string(steps) + " step(s)");
          }
        }
        tx.exec(m.up_sql);
        tx.exec_params(kInsertApplied, m.version, m.name, m.checksum);
        tx.commit();
      });
    } catch (const pqxx::sql_error& e) {
      throw MigrationError("migrations/" + m.up_file + " failed: " + e.what());
    }
    log_.info("applied " + m.up_file);
    ++ran;
  }
  if (ran > 0) analyze_owned_tables(conn);
  return ran;
}

int MigrationRunner::down(std::optional<int> to) {
  int target = to.value_or(0);
  if (target < 0) throw MigrationError("--to must be 0 or more");
  pqxx::connection conn(admin_url_);
  MigrationLock lock(conn);
  auto applied = read_applied(conn);
  verify_applied(applied, migrations_);
  int ran = 0;
  for (auto it = migrations_.rbegin(); it != migrations_.rend(); ++it) {
    const auto& m = *it;
    if (m.version <= target) break;
    if (!applied.count(m.version)) continue;
    try {
      run_migration_step(log_, m.down_file, [&] {
        pqxx::work tx(conn);
        tx.exec(m.down_sql);
        if (m.version == kLegacyBaselineVersion + 1) {
          // Back to the legacy shape the database had before `migrate adopt`.
          if (int steps = undo_legacy_normalization(tx); steps > 0) {
            log_.info("undid the legacy normalization: " + std::to_string(steps) + " step(s)");
          }
        }
        tx.exec_params(kDeleteApplied, m.version);
        tx.commit();
      });
    } catch (const pqxx::sql_error& e) {
      throw MigrationError("migrations/" + m.down_file + " failed: " + e.what());
    }
    log_.info("reverted " + m.up_file);
    ++ran;
  }
  return ran;
}

std::vector<MigrationState> MigrationRunner::status() {
  pqxx::connection conn(admin_url_);
  std::map<int, Applied> applied;
  {
    MigrationLock lock(conn);
    applied = read_applied(conn);
  }
  std::vector<MigrationState> out;
  for (const auto& m : migrations_) {
    MigrationState s;
    s.version = m.version;
    s.name = m.name;
    if (auto it = applied.find(m.version); it != applied.end()) {
      s.applied = true;
      s.applied_at = it->second.applied_at;
      s.checksum_ok = it->second.checksum == m.checksum;
    }
    out.push_back(s);
  }
  return out;
}

int MigrationRunner::current_version() {
  pqxx::connection conn(admin_url_);
  pqxx::nontransaction tx(conn);
  if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return 0;
  std::map<int, Applied> applied;
  for (const auto& row : tx.exec(kSelectApplied)) {
    applied[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>(),
                                   domain::rfc3339_or_same(row[3].as<std::string>())};
  }
  verify_applied(applied, migrations_);
  return applied.empty() ? 0 : applied.rbegin()->first;
}

void MigrationRunner::mark_applied_without_running(int version) {
  pqxx::connection conn(admin_url_);
  MigrationLock lock(conn);
  if (!read_applied(conn).empty()) {
    throw MigrationError("this database already has migration history (schema_migrations is not empty)");
  }
  auto it = std::find_if(migrations_.begin(), migrations_.end(), [&](const Migration& m) { return m.version == version; });
  if (it == migrations_.end()) throw MigrationError("no migration " + std::to_string(version));
  pqxx::work tx(conn);
  for (const auto& m : migrations_) {
    if (m.version > version) break;
    tx.exec_params(kInsertApplied, m.version, m.name, m.checksum);
  }
  tx.commit();
}

bool MigrationRunner::has_history() {
  pqxx::connection conn(admin_url_);
  pqxx::nontransaction tx(conn);
  if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return false;
  return !tx.exec("SELECT 1 FROM schema_migrations LIMIT 1").empty();
}

bool MigrationRunner::is_current() {
  try {
    return current_version() == latest_version();
  } catch (const MigrationError&) {
    return false;
  }
}

}  // namespace tradesphere::db
