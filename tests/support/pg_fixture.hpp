// Test harness for the `pg` and `http` tiers.
//
// scripts/test starts one private PostgreSQL cluster per run and exports its
// data folder as TRADESPHERE_TEST_DATA_DIR. The first test to need it migrates
// a template database once (under an advisory lock, named after the migrations'
// checksums); every test then gets its own `CREATE DATABASE … TEMPLATE` copy,
// dropped when the test ends. Without TRADESPHERE_TEST_DATA_DIR the tests fail
// (they never skip).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace tradesphere::testing {

enum class DatabaseKind { kMigrated, kEmpty };

// A throw-away database in the test cluster.
class FreshDatabase {
 public:
  explicit FreshDatabase(DatabaseKind kind = DatabaseKind::kMigrated);
  ~FreshDatabase();
  FreshDatabase(const FreshDatabase&) = delete;
  FreshDatabase& operator=(const FreshDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string app_url() const;        // tradesphere_app (RLS applies)
  std::string owner_url() const;      // tradesphere_owner (runs migrations)
  std::string superuser_url() const;  // postgres

 private:
  std::string name_;
};

// The cluster's data folder (TRADESPHERE_TEST_DATA_DIR); fails the test when unset.
std::string test_data_dir();
// Absolute path of the built `tradesphere` binary.
std::string tradesphere_binary();
// Absolute path of the built `tradesphere-dev` binary (development data, tools/devdata).
std::string tradesphere_dev_binary();

// Base fixture: each test gets a fresh, fully migrated database.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& db_name() const { return db_->name(); }
  std::string app_url() const { return db_->app_url(); }
  std::string owner_url() const { return db_->owner_url(); }
  std::string superuser_url() const { return db_->superuser_url(); }

  virtual DatabaseKind kind() const { return DatabaseKind::kMigrated; }

 private:
  std::unique_ptr<FreshDatabase> db_;
};

// Same, with an empty database (no migrations applied): for migration tests.
class EmptyPgTest : public PgTest {
 protected:
  DatabaseKind kind() const override { return DatabaseKind::kEmpty; }
};

}  // namespace tradesphere::testing
