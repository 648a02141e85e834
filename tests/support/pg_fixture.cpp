#include "support/pg_fixture.hpp"

#include <cstdlib>
#include <mutex>
#include <thread>

#include <pqxx/pqxx>

#include "common/crypto.hpp"
#include "db/embedded_cluster.hpp"
#include "db/migrations.hpp"

namespace tradesphere::testing {
namespace {

constexpr long long kTemplateLockKey = 0x74706c;  // "tpl"

db::EmbeddedCluster& cluster() {
  static db::EmbeddedCluster instance(db::ClusterOptions{test_data_dir(), std::nullopt, true});
  return instance;
}

std::string template_name() {
  std::string all;
  for (const auto& m : db::builtin_migrations()) all += m.checksum + m.down_sql;
  return "ts_tpl_" + common::sha256_hex(all).substr(0, 16);
}

// Creates the migrated template once per cluster (shared by concurrent test processes).
const std::string& migrated_template() {
  static std::once_flag once;
  static std::string name;
  std::call_once(once, [] {
    name = template_name();
    pqxx::connection conn(cluster().url(db::ClusterRole::kSuperuser, "postgres"));
    pqxx::nontransaction tx(conn);
    tx.exec_params("SELECT pg_advisory_lock($1)", kTemplateLockKey);
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty()) {
      std::string building = name + "_building";
      tx.exec("DROP DATABASE IF EXISTS " + building);
      tx.exec("CREATE DATABASE " + building + " OWNER " + db::kOwnerRole);
      db::MigrationRunner(cluster().url(db::ClusterRole::kOwner, building)).up();
      tx.exec("ALTER DATABASE " + building + " RENAME TO " + name);
      tx.exec("ALTER DATABASE " + name + " IS_TEMPLATE true");
    }
    tx.exec_params("SELECT pg_advisory_unlock($1)", kTemplateLockKey);
  });
  return name;
}

}  // namespace

std::string test_data_dir() {
  const char* dir = std::getenv("TRADESPHERE_TEST_DATA_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error(
        "TRADESPHERE_TEST_DATA_DIR is not set: run the pg/http tiers through ./scripts/test, which starts the test cluster");
  }
  return dir;
}

std::string tradesphere_binary() { return TRADESPHERE_BIN; }
std::string tradesphere_dev_binary() { return TRADESPHERE_DEV_BIN; }

FreshDatabase::FreshDatabase(DatabaseKind kind) {
  name_ = "t_" + common::random_hex(8);
  std::string sql = "CREATE DATABASE " + name_ + " OWNER " + db::kOwnerRole;
  if (kind == DatabaseKind::kMigrated) sql += " TEMPLATE " + migrated_template();
  pqxx::connection conn(cluster().url(db::ClusterRole::kSuperuser, "postgres"));
  // Concurrent copies of one template can collide briefly; retry a few times.
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::nontransaction tx(conn);
      tx.exec(sql);
      break;
    } catch (const pqxx::sql_error&) {
      if (attempt >= 20) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

FreshDatabase::~FreshDatabase() {
  try {
    pqxx::connection conn(cluster().url(db::ClusterRole::kSuperuser, "postgres"));
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // A leftover database dies with the throw-away cluster.
  }
}

std::string FreshDatabase::app_url() const { return cluster().url(db::ClusterRole::kApp, name_); }
std::string FreshDatabase::owner_url() const { return cluster().url(db::ClusterRole::kOwner, name_); }
std::string FreshDatabase::superuser_url() const { return cluster().url(db::ClusterRole::kSuperuser, name_); }

void PgTest::SetUp() { db_ = std::make_unique<FreshDatabase>(kind()); }
void PgTest::TearDown() { db_.reset(); }

}  // namespace tradesphere::testing
