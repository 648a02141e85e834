#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "db/database.hpp"
#include "support/pg_fixture.hpp"
#include "support/transient_failures.hpp"

namespace {

using tradesphere::db::Database;
using tradesphere::db::PoolOptions;
using tradesphere::db::Tx;
using tradesphere::testing::fail_first;
using tradesphere::domain::RequestContext;
using tradesphere::domain::Role;

class DatabaseTest : public tradesphere::testing::PgTest {
 protected:
  PoolOptions options(int size = 2) {
    PoolOptions o;
    o.url = app_url();
    o.size = size;
    o.acquire_timeout = std::chrono::milliseconds(300);
    o.statement_timeout = std::chrono::milliseconds(2000);
    return o;
  }
  RequestContext ctx{"11111111-1111-1111-1111-111111111111", "user-7", Role::kAgent, "req-42"};
};

TEST_F(DatabaseTest, SetsTenantAndActorForTheTransactionOnly) {
  Database db(options(1));
  auto settings = db.transact(ctx, "test", [](Tx& tx) {
    auto r = tx.exec1(
        "SELECT current_setting('app.company_id'), current_setting('app.user_id'), current_setting('app.role'), "
        "current_setting('app.correlation_id'), current_setting('statement_timeout')");
    return std::vector<std::string>{r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str()};
  });
  EXPECT_EQ(settings, (std::vector<std::string>{ctx.company_id, "user-7", "agent", "req-42", "2s"}));

  // The same pooled connection, outside any of our transactions, keeps nothing.
  auto lease = db.pool().acquire();
  pqxx::nontransaction tx(*lease);
  auto after = tx.exec("SELECT coalesce(current_setting('app.company_id', true), '')")[0][0].as<std::string>();
  EXPECT_EQ(after, "");
}

// A table the application role may write: the unit's effect, to see what was committed.
void create_scratch_table(const std::string& owner_url) {
  pqxx::connection c(owner_url);
  pqxx::work w(c);
  w.exec("CREATE TABLE retry_scratch (n int NOT NULL)");
  w.exec("GRANT SELECT, INSERT ON retry_scratch TO tradesphere_app");
  w.commit();
}

TEST_F(DatabaseTest, RetriesTheWholeUnitAfterASerializationFailure) {
  create_scratch_table(owner_url());
  Database db(options());
  int calls = 0;
  int value = db.transact(ctx, "test", fail_first(2, [&](Tx& tx) {
                            ++calls;
                            tx.exec("INSERT INTO retry_scratch VALUES (7)");
                            return tx.exec1("SELECT count(*) FROM retry_scratch")[0].as<int>();
                          }));
  EXPECT_EQ(calls, 3) << "the unit runs again, from its first statement, after each failure";
  EXPECT_EQ(value, 1) << "each try sees none of the rolled-back tries' writes";
  EXPECT_EQ(db.transact(ctx, "test", [](Tx& tx) { return tx.exec1("SELECT count(*) FROM retry_scratch")[0].as<int>(); }),
            1);
}

TEST_F(DatabaseTest, GivesUpAfterThreeTriesWithUnavailable) {
  create_scratch_table(owner_url());
  Database db(options());
  int calls = 0;
  EXPECT_THROW(db.transact(ctx, "test", fail_first(3, [&](Tx& tx) {
                             ++calls;
                             tx.exec("INSERT INTO retry_scratch VALUES (1)");
                           })),
               tradesphere::domain::UnavailableError);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(db.transact(ctx, "test", [](Tx& tx) { return tx.exec1("SELECT count(*) FROM retry_scratch")[0].as<int>(); }),
            0);
}

TEST_F(DatabaseTest, NeverRetriesAnErrorOfTheUnitItself) {
  Database db(options());
  int calls = 0;
  EXPECT_THROW(db.transact(ctx, "test",
                           [&](Tx& tx) {
                             ++calls;
                             tx.exec("SELECT 1");
                             throw tradesphere::domain::NotFoundError("customer x not found");
                           }),
               tradesphere::domain::NotFoundError);
  EXPECT_EQ(calls, 1);
}

TEST_F(DatabaseTest, NeverRetriesAConstraintViolation) {
  Database db(options());
  int calls = 0;
  EXPECT_THROW(db.transact(ctx, "test",
                           [&](Tx& tx) {
                             ++calls;
                             tx.exec("CREATE TEMP TABLE t (k int PRIMARY KEY)");
                             tx.exec("INSERT INTO t VALUES (1), (1)");
                           }),
               tradesphere::domain::ConflictError);
  EXPECT_EQ(calls, 1);
}

TEST_F(DatabaseTest, StatementTimeoutBecomesUnavailableAndReturnsTheConnection) {
  auto o = options(1);
  o.statement_timeout = std::chrono::milliseconds(100);
  Database db(o);
  EXPECT_THROW(db.transact(ctx, "test", [](Tx& tx) { tx.exec("SELECT pg_sleep(2)"); }),
               tradesphere::domain::UnavailableError);
  EXPECT_EQ(db.pool().in_use(), 0);
  EXPECT_EQ(db.transact(ctx, "test", [](Tx& tx) { return tx.exec1("SELECT 1")[0].as<int>(); }), 1);
}

TEST_F(DatabaseTest, ExhaustedPoolAnswersUnavailableInsteadOfHanging) {
  Database db(options(1));
  auto held = db.pool().acquire();
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(db.transact(ctx, "test", [](Tx& tx) { tx.exec("SELECT 1"); }), tradesphere::domain::UnavailableError);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(DatabaseTest, ABrokenConnectionIsReplaced) {
  Database db(options(1));
  auto pid = db.transact(ctx, "test", [](Tx& tx) { return tx.exec1("SELECT pg_backend_pid()")[0].as<int>(); });
  {
    pqxx::connection admin(superuser_url());
    pqxx::nontransaction tx(admin);
    tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  }
  // The first try meets the dead connection before COMMIT: retried on a new one.
  auto next = db.transact(ctx, "test", [](Tx& tx) { return tx.exec1("SELECT pg_backend_pid()")[0].as<int>(); });
  EXPECT_NE(next, pid);
}

// TxMode::kReadOnly is set by the settings statement itself (no round trip of its own):
// the unit reads, refuses any write, and the next unit on the connection may write.
TEST_F(DatabaseTest, AReadOnlyUnitRefusesWritesInTheSameStatementCount) {
  Database db(options(1));
  const auto before = db.statements_executed();
  const auto read_only = db.transact(
      ctx, "test", [](Tx& tx) { return tx.exec1("SELECT current_setting('transaction_read_only')")[0].as<std::string>(); },
      tradesphere::db::TxMode::kReadOnly);
  EXPECT_EQ(read_only, "on");
  EXPECT_EQ(db.statements_executed() - before, 2u) << "the settings statement and the query";
  EXPECT_ANY_THROW(db.transact(
      ctx, "test", [](Tx& tx) { tx.exec("CREATE TEMP TABLE read_only_probe (x int)"); },
      tradesphere::db::TxMode::kReadOnly));
  const auto read_write = db.transact(
      ctx, "test", [](Tx& tx) { return tx.exec1("SELECT current_setting('transaction_read_only')")[0].as<std::string>(); });
  EXPECT_EQ(read_write, "off");
}

TEST_F(DatabaseTest, CountsStatements) {
  Database db(options());
  auto before = db.statements_executed();
  db.transact(ctx, "test", [](Tx& tx) { tx.exec("SELECT 1"); });
  EXPECT_EQ(db.statements_executed() - before, 2u) << "the settings statement and the query";
}

}  // namespace
