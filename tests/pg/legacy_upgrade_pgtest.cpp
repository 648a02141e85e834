// The legacy upgrade end to end: a messy legacy database → adopt → up →
// backfill killed with SIGKILL and resumed → verify → new writes → rollback.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "common/crypto.hpp"
#include "common/process.hpp"
#include "db/legacy_upgrade.hpp"
#include "db/migrations.hpp"
#include "support/pg_fixture.hpp"

namespace fs = std::filesystem;
using tradesphere::db::MigrationRunner;

namespace {

constexpr int kChatRows = 12000;

class LegacyUpgradeTest : public tradesphere::testing::EmptyPgTest {
 protected:
  // A legacy database as real deployments have it: no schema_migrations, messy rows.
  void make_legacy_database() { make_legacy_database(owner_url()); }
  void make_legacy_database(const std::string& url) {
    MigrationRunner(url).up(tradesphere::db::kLegacyBaselineVersion);
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec("DROP TABLE schema_migrations");
    tx.exec(R"sql(
      INSERT INTO companies (id, slug, name) VALUES
        ('a0000000-0000-0000-0000-00000000000a', 'acme', 'Acme'),
        ('b0000000-0000-0000-0000-00000000000b', 'bolt', 'Bolt'),
        ('c0000000-0000-0000-0000-00000000000c', 'cargo', 'Cargo');
      INSERT INTO app_users (tech_id, company_id, role) VALUES
        ('tech-a1', 'a0000000-0000-0000-0000-00000000000a', 'agent'),
        ('tech-a2', 'a0000000-0000-0000-0000-00000000000a', 'admin'),
        ('tech-b1', 'b0000000-0000-0000-0000-00000000000b', 'agent'),
        ('tech-c1', 'c0000000-0000-0000-0000-00000000000c', 'agent');
      -- 400 people per company-ish, written many ways; every 50th row has an unknown tech id;
      -- every 7th row carries no contact data at all.
      INSERT INTO "VC Usage" (session_id, tech_id, customer_name, customer_email, customer_phone,
                              user_message, ai_response, created_at)
      SELECT 'sess-' || (g / 3),
             CASE WHEN g % 50 = 0 THEN 'tech-ghost'
                  ELSE (ARRAY['tech-a1','tech-a2','tech-b1','tech-c1'])[1 + (g / 3) % 4] END,
             CASE WHEN g % 7 = 0 THEN NULL
                  WHEN g % 5 = 0 THEN '  ' || upper('person ' || (g / 3) % 400)
                  ELSE 'Person ' || (g / 3) % 400 END,
             CASE WHEN g % 7 = 0 THEN NULL
                  WHEN g % 3 = 0 THEN ' Person' || (g / 3) % 400 || '@Example.COM '
                  WHEN g % 3 = 1 THEN 'person' || (g / 3) % 400 || '@example.com'
                  ELSE NULL END,
             CASE WHEN g % 7 = 0 THEN NULL
                  WHEN g % 4 = 0 THEN '(415) 555-' || lpad(((g / 3) % 400)::text, 4, '0')
                  WHEN g % 4 = 1 THEN '+1 415 555 ' || lpad(((g / 3) % 400)::text, 4, '0')
                  ELSE NULL END,
             'question ' || g, 'answer ' || g,
             timestamptz '2025-01-01 00:00:00+00' + g * interval '1 minute'
        FROM generate_series(1, )sql" + std::to_string(kChatRows) + R"sql() g;
      INSERT INTO customers (company_id, name, email, phone) VALUES
        ('a0000000-0000-0000-0000-00000000000a', 'Stale Person', 'stale@example.com', NULL),
        (NULL, 'Nobody', NULL, NULL);
    )sql");
    tx.commit();
  }

  tradesphere::common::ProcessResult cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"env", "DATABASE_URL=" + app_url(), "DATABASE_ADMIN_URL=" + owner_url(),
                                     tradesphere::testing::tradesphere_binary(), "--data-dir", data_dir_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return tradesphere::common::run_process(argv);
  }

  std::int64_t scalar(const std::string& sql) { return scalar_at(owner_url(), sql); }
  std::int64_t scalar_at(const std::string& url, const std::string& sql) {
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    return tx.exec(sql)[0][0].as<std::int64_t>();
  }

  void SetUp() override {
    EmptyPgTest::SetUp();
    data_dir_ = fs::temp_directory_path() / ("tradesphere-upgrade-" + tradesphere::common::random_hex(6));
    fs::create_directories(data_dir_);
  }
  void TearDown() override {
    fs::remove_all(data_dir_);
    EmptyPgTest::TearDown();
  }
  fs::path data_dir_;
};

TEST_F(LegacyUpgradeTest, AdoptUpBackfillKilledAndResumedVerifyThenRollBack) {
  make_legacy_database();
  auto adopt = cli({"migrate", "adopt"});
  ASSERT_EQ(adopt.exit_code, 0) << adopt.output;
  auto up = cli({"migrate", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.output;

  // Start a slow backfill in a child process and kill it with SIGKILL mid-way.
  pid_t child = fork();
  if (child == 0) {
    setenv("DATABASE_URL", app_url().c_str(), 1);
    setenv("DATABASE_ADMIN_URL", owner_url().c_str(), 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    std::string bin = tradesphere::testing::tradesphere_binary();
    execl(bin.c_str(), bin.c_str(), "backfill", "--batch", "100", "--throttle", "2000", nullptr);
    _exit(127);
  }
  ASSERT_GT(child, 0);
  std::int64_t checkpoint = 0;
  for (int i = 0; i < 300 && checkpoint == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    try {
      checkpoint = scalar("SELECT coalesce((SELECT last_id FROM backfill_checkpoint), 0)");
    } catch (const std::exception&) {
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GT(checkpoint, 0) << "the backfill never committed a batch";
  ASSERT_LT(checkpoint, kChatRows) << "the backfill finished before it could be killed";

  auto resumed = tradesphere::db::backfill_chat_links(owner_url(), {});
  EXPECT_TRUE(resumed.finished);
  EXPECT_GT(resumed.rows_examined, 0);
  EXPECT_EQ(scalar("SELECT last_id FROM backfill_checkpoint"),
            scalar("SELECT max(id) FROM \"VC Usage\" WHERE company_id IS NOT NULL"));

  auto verify = cli({"verify", "--format", "json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_GT(scalar("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL"), 0)
      << "rows of unknown tech ids are kept in quarantine, not dropped";
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\""), kChatRows);

  // The unchanged legacy writer keeps inserting rows in the legacy shape; they get linked.
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, user_message, ai_response) "
            "VALUES ('after-upgrade', 'tech-b1', 'Late Arrival', 'LATE@example.com ', 'hi', 'hello')");
    tx.commit();
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 'after-upgrade' AND customer_id IS NOT NULL"),
            1);

  const auto linked_before = scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL");
  auto down = cli({"migrate", "down", "--to", "1"});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_NE(down.output.find("exported"), std::string::npos) << down.output;
  EXPECT_TRUE(fs::exists(data_dir_ / "exports")) << "new-schema data is exported before the rollback";

  auto after = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(after.ok) << after.to_text();
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\""), kChatRows + 1) << "post-upgrade chats survive the rollback";
  EXPECT_TRUE(tradesphere::db::legacy_shape_differences(owner_url()).empty());

  // upgrading again links every row again: the rollback forgot the backfill checkpoint
  EXPECT_EQ(scalar("SELECT count(*) FROM backfill_checkpoint"), 0);
  MigrationRunner(owner_url()).up();
  tradesphere::db::backfill_chat_links(owner_url(), {});
  auto again = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(again.ok) << again.to_text();
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL"), linked_before);
}

TEST_F(LegacyUpgradeTest, VerifyFailsNamingAnAlteredLegacyRow) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  tradesphere::db::backfill_chat_links(owner_url(), {});
  ASSERT_TRUE(tradesphere::db::verify_upgrade(owner_url()).ok);
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("UPDATE \"VC Usage\" SET user_message = 'tampered' WHERE id = 17");
    tx.commit();
  }
  auto report = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_FALSE(report.ok);
  ASSERT_FALSE(report.changed_rows.empty());
  EXPECT_EQ(report.changed_rows[0], "\"VC Usage\" id=17 changed");
}

TEST_F(LegacyUpgradeTest, AdoptRefusesADifferentShapeNamingEachDifference) {
  make_legacy_database();
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE customers ADD COLUMN loyalty integer");
    tx.exec("ALTER TABLE \"VC Usage\" DROP COLUMN ai_response");
    tx.commit();
  }
  try {
    tradesphere::db::adopt_legacy_database(owner_url());
    FAIL() << "adopt accepted a different shape";
  } catch (const tradesphere::db::MigrationError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("\"customers\".loyalty: unexpected column"), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"VC Usage\".ai_response: missing column"), std::string::npos) << msg;
  }
  EXPECT_FALSE(MigrationRunner(owner_url()).has_history()) << "nothing recorded after a refusal";
}

TEST_F(LegacyUpgradeTest, BackfillRunTwiceChangesNothingTheSecondTime) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  auto first = tradesphere::db::backfill_chat_links(owner_url(), {});
  EXPECT_TRUE(first.finished);
  auto customers = scalar("SELECT count(*) FROM customers");
  auto linked = scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL");
  auto second = tradesphere::db::backfill_chat_links(owner_url(), {});
  EXPECT_EQ(second.rows_examined, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM customers"), customers);
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL"), linked);
}

TEST_F(LegacyUpgradeTest, PausedSyncStoresChatsOrphanedAndResumeLinksThem) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  ASSERT_EQ(cli({"sync", "pause"}).exit_code, 0);
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message, ai_response) "
            "VALUES ('paused-1', 'tech-a1', 'paused@example.com', 'hi', 'hello')");
    tx.commit();
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 'paused-1' AND customer_id IS NULL"), 1);
  auto resume = cli({"sync", "resume"});
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 'paused-1' AND customer_id IS NOT NULL"), 1);
}

// Which chat rows share a customer: equal for two databases that linked alike.
constexpr const char* kLinkPartition =
    "SELECT md5(coalesce(string_agg(g, ',' ORDER BY g), '')) FROM (SELECT string_agg(id::text, ' ' ORDER BY id) AS g "
    "FROM \"VC Usage\" WHERE customer_id IS NOT NULL GROUP BY customer_id) s";

TEST_F(LegacyUpgradeTest, ParallelBackfillStoppedAndResumedLinksLikeOneWorker) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  const auto to_link =
      scalar("SELECT count(*) FROM \"VC Usage\" WHERE company_id IS NOT NULL AND customer_id IS NULL");

  tradesphere::db::BackfillOptions stopped;
  stopped.jobs = 3;
  stopped.batch = 100;
  stopped.max_batches = 5;  // as if killed: only committed batches and checkpoints remain
  auto first = tradesphere::db::backfill_chat_links(owner_url(), stopped);
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.rows_examined, 500);
  EXPECT_GE(scalar("SELECT count(*) FROM backfill_company_checkpoint"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM backfill_checkpoint"), 0) << "no global checkpoint before every company is done";

  tradesphere::db::BackfillOptions resume;
  resume.jobs = 3;
  resume.batch = 500;
  auto second = tradesphere::db::backfill_chat_links(owner_url(), resume);
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(first.rows_examined + second.rows_examined, to_link) << "the resumed run continues after the checkpoints";
  auto verify = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(verify.ok) << verify.to_text();

  // Idempotent, in either mode.
  const auto customers = scalar("SELECT count(*) FROM customers");
  EXPECT_EQ(tradesphere::db::backfill_chat_links(owner_url(), resume).rows_examined, 0);
  EXPECT_EQ(tradesphere::db::backfill_chat_links(owner_url(), {}).rows_examined, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM customers"), customers);

  // The same links as a single worker makes on the same legacy data.
  tradesphere::testing::FreshDatabase sequential(tradesphere::testing::DatabaseKind::kEmpty);
  make_legacy_database(sequential.owner_url());
  tradesphere::db::adopt_legacy_database(sequential.owner_url());
  MigrationRunner(sequential.owner_url()).up();
  EXPECT_TRUE(tradesphere::db::backfill_chat_links(sequential.owner_url(), {}).finished);
  EXPECT_EQ(scalar_at(sequential.owner_url(), "SELECT count(*) FROM customers"), customers);
  pqxx::connection a(owner_url());
  pqxx::connection b(sequential.owner_url());
  pqxx::read_transaction ta(a);
  pqxx::read_transaction tb(b);
  EXPECT_EQ(ta.exec(kLinkPartition)[0][0].as<std::string>(), tb.exec(kLinkPartition)[0][0].as<std::string>());
}

}  // namespace
