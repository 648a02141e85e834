#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <pqxx/except>

#include "db/migrations.hpp"

using tradesphere::db::EmbeddedFile;
using tradesphere::db::load_migrations;
using tradesphere::db::MigrationError;

TEST(MigrationFiles, PairsUpAndDownFilesInVersionOrder) {
  std::vector<EmbeddedFile> files = {
      {"0002_second.down.sql", "DROP TABLE b;"},
      {"0001_first.up.sql", "CREATE TABLE a();"},
      {"0002_second.up.sql", "CREATE TABLE b();"},
      {"0001_first.down.sql", "DROP TABLE a;"},
  };
  auto migrations = load_migrations(files);
  ASSERT_EQ(migrations.size(), 2u);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "first");
  EXPECT_EQ(migrations[0].up_sql, "CREATE TABLE a();");
  EXPECT_EQ(migrations[0].down_sql, "DROP TABLE a;");
  EXPECT_EQ(migrations[1].version, 2);
  EXPECT_EQ(migrations[1].down_file, "0002_second.down.sql");
}

TEST(MigrationFiles, ChecksumChangesWithTheUpFile) {
  auto a = load_migrations({{"0001_x.up.sql", "SELECT 1;"}, {"0001_x.down.sql", ""}});
  auto b = load_migrations({{"0001_x.up.sql", "SELECT 2;"}, {"0001_x.down.sql", ""}});
  EXPECT_EQ(a[0].checksum.size(), 64u);
  EXPECT_NE(a[0].checksum, b[0].checksum);
}

TEST(MigrationFiles, RejectsAMissingDown) {
  EXPECT_THROW(load_migrations({{"0001_x.up.sql", "SELECT 1;"}}), MigrationError);
}

TEST(MigrationFiles, RejectsAMissingUp) {
  EXPECT_THROW(load_migrations({{"0001_x.down.sql", "SELECT 1;"}}), MigrationError);
}

TEST(MigrationFiles, RejectsAGapInVersions) {
  EXPECT_THROW(load_migrations({{"0001_a.up.sql", ""}, {"0001_a.down.sql", ""}, {"0003_c.up.sql", ""},
                                {"0003_c.down.sql", ""}}),
               MigrationError);
}

TEST(MigrationFiles, RejectsTwoNamesForOneVersion) {
  EXPECT_THROW(load_migrations({{"0001_a.up.sql", ""}, {"0001_b.down.sql", ""}}), MigrationError);
}

TEST(MigrationFiles, RejectsNamesItDoesNotUnderstand) {
  EXPECT_THROW(load_migrations({{"1_a.up.sql", ""}}), MigrationError);
  EXPECT_THROW(load_migrations({{"0001_A.up.sql", ""}}), MigrationError);
  EXPECT_THROW(load_migrations({{"0001_a.sql", ""}}), MigrationError);
}

TEST(MigrationFiles, BuiltinSetStartsWithTheLegacyBaselineAndHasEveryDown) {
  const auto& migrations = tradesphere::db::builtin_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].version, tradesphere::db::kLegacyBaselineVersion);
  EXPECT_EQ(migrations[0].name, "legacy_baseline");
  for (const auto& m : migrations) {
    EXPECT_FALSE(m.down_sql.empty()) << m.up_file;
  }
}

// A migration step that lost a deadlock or a serialization conflict to another
// session changed nothing (its transaction rolled back): it runs again, a few
// times; any other error, and the last transient one, ends the run.
TEST(MigrationStep, RunsAgainAfterADeadlockOrSerializationConflictOnly) {
  std::vector<std::string> lines;
  tradesphere::db::MigrationLog log;
  log.info = [&lines](const std::string& line) { lines.push_back(line); };
  int calls = 0;
  tradesphere::db::run_migration_step(log, "0009_x.down.sql", [&] {
    ++calls;
    if (calls == 1) throw pqxx::deadlock_detected("ERROR:  deadlock detected");
    if (calls == 2) throw pqxx::serialization_failure("ERROR:  could not serialize access");
  });
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("0009_x.down.sql: deadlock"), std::string::npos) << lines[0];

  calls = 0;
  EXPECT_THROW(tradesphere::db::run_migration_step(log, "f", [&] {
                 ++calls;
                 throw pqxx::syntax_error("ERROR:  syntax error");
               }),
               pqxx::syntax_error);
  EXPECT_EQ(calls, 1) << "not transient: never repeated";

  calls = 0;
  EXPECT_THROW(tradesphere::db::run_migration_step(log, "f", [&] {
                 ++calls;
                 throw pqxx::deadlock_detected("ERROR:  deadlock detected");
               }),
               pqxx::deadlock_detected);
  EXPECT_EQ(calls, 5) << "a bounded number of attempts";
}
