#include <future>
#include <sstream>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "common/process.hpp"
#include "db/embedded_cluster.hpp"
#include "db/migrations.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::db::MigrationError;
using tradesphere::db::MigrationRunner;

class MigrationRunnerTest : public tradesphere::testing::EmptyPgTest {
 protected:
  std::string schema_dump() {
    auto bindir = tradesphere::db::EmbeddedCluster::postgres_bindir();
    auto r = tradesphere::common::run_process(
        {(bindir / "pg_dump").string(), "--schema-only", "--no-comments", "-d", owner_url()});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    // pg_dump >= 15.14 brackets its output with \restrict <random key>; drop those lines.
    std::string out;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("\\restrict ", 0) == 0 || line.rfind("\\unrestrict ", 0) == 0) continue;
      out += line + "\n";
    }
    return out;
  }
  int applied_rows() {
    pqxx::connection conn(owner_url());
    pqxx::nontransaction tx(conn);
    return tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<int>();
  }
};

TEST_F(MigrationRunnerTest, UpAppliesEveryMigrationOnceAndIsCurrent) {
  MigrationRunner runner(owner_url());
  EXPECT_FALSE(runner.is_current());
  int ran = runner.up();
  EXPECT_EQ(ran, runner.latest_version());
  EXPECT_EQ(runner.current_version(), runner.latest_version());
  EXPECT_TRUE(runner.is_current());
  EXPECT_EQ(runner.up(), 0);
  EXPECT_EQ(applied_rows(), runner.latest_version());
}

TEST_F(MigrationRunnerTest, UpToStopsAtTheRequestedVersion) {
  MigrationRunner runner(owner_url());
  runner.up(1);
  EXPECT_EQ(runner.current_version(), 1);
  auto status = runner.status();
  ASSERT_FALSE(status.empty());
  EXPECT_TRUE(status[0].applied);
  for (std::size_t i = 1; i < status.size(); ++i) EXPECT_FALSE(status[i].applied);
}

TEST_F(MigrationRunnerTest, RefusesToRunWhenAnAppliedFileChangedAndNamesIt) {
  MigrationRunner(owner_url()).up(1);
  auto edited = tradesphere::db::builtin_migrations();
  edited[0].up_sql += "\n-- edited after it was applied\n";
  edited[0].checksum = "0000";
  MigrationRunner runner(owner_url(), edited);
  try {
    runner.up();
    FAIL() << "expected MigrationError";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0001_legacy_baseline.up.sql"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(runner.is_current());
  EXPECT_EQ(applied_rows(), 1) << "nothing may run after the refusal";
}

TEST_F(MigrationRunnerTest, DownToZeroThenUpGivesTheSameSchema) {
  MigrationRunner runner(owner_url());
  runner.up();
  auto first = schema_dump();
  runner.down();
  EXPECT_EQ(runner.current_version(), 0);
  runner.up();
  EXPECT_EQ(schema_dump(), first);
}

TEST_F(MigrationRunnerTest, EveryDownReturnsExactlyToThePreviousSchema) {
  MigrationRunner runner(owner_url());
  runner.status();  // creates schema_migrations, which every later state has too
  auto before = schema_dump();
  for (const auto& m : tradesphere::db::builtin_migrations()) {
    runner.up(m.version);
    auto after = schema_dump();
    runner.down(m.version - 1);
    EXPECT_EQ(schema_dump(), before) << "migrations/" << m.down_file << " does not undo " << m.up_file;
    runner.up(m.version);
    EXPECT_EQ(schema_dump(), after) << m.up_file << " is not repeatable after its down";
    before = after;
  }
}

TEST_F(MigrationRunnerTest, TwoProcessesMigratingAtOnceApplyEachMigrationOnce) {
  auto run = [this] {
    return tradesphere::common::run_process(
        {"env", "DATABASE_URL=" + owner_url(), "DATABASE_ADMIN_URL=" + owner_url(),
         tradesphere::testing::tradesphere_binary(), "migrate", "up"});
  };
  auto a = std::async(std::launch::async, run);
  auto b = std::async(std::launch::async, run);
  auto ra = a.get();
  auto rb = b.get();
  EXPECT_EQ(ra.exit_code, 0) << ra.output;
  EXPECT_EQ(rb.exit_code, 0) << rb.output;
  MigrationRunner runner(owner_url());
  EXPECT_TRUE(runner.is_current()) << ra.output << "\n---\n" << rb.output;
  EXPECT_EQ(applied_rows(), runner.latest_version());
  // Exactly one of them reports having applied migrations.
  bool a_applied = ra.output.find("applied ") != std::string::npos && ra.output.find("up to date") == std::string::npos;
  bool b_applied = rb.output.find("applied ") != std::string::npos && rb.output.find("up to date") == std::string::npos;
  EXPECT_NE(a_applied, b_applied) << ra.output << "\n---\n" << rb.output;
}

}  // namespace
