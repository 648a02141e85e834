// The legacy upgrade end to end: a messy legacy database → adopt → up →
// backfill killed with SIGKILL and resumed → verify → new writes → rollback.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

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
  // (migration 0036's down drops the checkpoint tables; adopt's snapshot stays)
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_class WHERE relname IN ('backfill_checkpoint', "
                   "'backfill_company_checkpoint')"),
            0);
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_class WHERE relname IN ('legacy_snapshot', 'legacy_snapshot_rows')"), 2);
  MigrationRunner(owner_url()).up();
  EXPECT_EQ(scalar("SELECT count(*) FROM backfill_checkpoint"), 0);
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

// One email, one active customer (issue 15): verify names an email two active
// customers of a company hold (e.g. created by an import, which does not enforce it).
TEST_F(LegacyUpgradeTest, VerifyFailsOnAnEmailHeldByTwoActiveCustomers) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  tradesphere::db::backfill_chat_links(owner_url(), {});
  ASSERT_TRUE(tradesphere::db::verify_upgrade(owner_url()).ok);
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("INSERT INTO customers (company_id, name, email) "
            "SELECT company_id, 'Twin', ' ' || upper(email) FROM customers WHERE email IS NOT NULL AND status = 'active' "
            "ORDER BY id LIMIT 1");
    tx.commit();
  }
  auto report = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.shared_emails, 1);
  ASSERT_FALSE(report.failures.empty());
  EXPECT_NE(report.failures.back().find("held by more than one active customer"), std::string::npos)
      << report.failures.back();
}

// The stage counts (migration 0049): initialized from the legacy customers by the
// migration and kept through the backfill; verify names a stored count that differs
// from a recount, and customer_stage_counts_rebuild repairs it.
TEST_F(LegacyUpgradeTest, VerifyFailsOnAStageCountThatDiffersFromARecount) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  tradesphere::db::backfill_chat_links(owner_url(), {});
  auto clean = tradesphere::db::verify_upgrade(owner_url());
  ASSERT_TRUE(clean.ok) << clean.to_text();
  EXPECT_EQ(clean.stage_count_drift_rows, 0);
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    EXPECT_GT(tx.exec1("SELECT sum(customers) FROM customer_stage_counts")[0].as<long>(), 0);
    tx.exec("INSERT INTO customer_stage_counts SELECT id, 'churned', 1 FROM companies ORDER BY id LIMIT 1");
    tx.commit();
  }
  auto report = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.stage_count_drift_rows, 1);
  ASSERT_FALSE(report.failures.empty());
  EXPECT_NE(report.failures.back().find("stage count"), std::string::npos) << report.failures.back();
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("SELECT customer_stage_counts_rebuild(id) FROM companies");
    tx.commit();
  }
  auto fixed = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(fixed.ok) << fixed.to_text();
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
    EXPECT_NE(msg.find("\"customers\".loyalty: unexpected column (integer) — kept"), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"VC Usage\".ai_response: missing column (expected text) — blocking"), std::string::npos)
        << msg;
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

  // one company by its slug; an unknown slug is named
  const std::string acme = "a0000000-0000-0000-0000-00000000000a";
  ASSERT_EQ(cli({"sync", "pause", "--company", "acme"}).exit_code, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM sync_settings WHERE paused AND company_id = '" + acme + "'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM sync_settings WHERE paused AND company_id IS DISTINCT FROM '" + acme + "'"), 0);
  auto unknown = cli({"sync", "pause", "--company", "no-such-company"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("no company with slug 'no-such-company'"), std::string::npos) << unknown.output;
  ASSERT_EQ(cli({"sync", "resume", "--company", "acme"}).exit_code, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM sync_settings WHERE paused"), 0);
}

// Which chat rows share a customer: equal for two databases that linked alike.
constexpr const char* kLinkPartition =
    "SELECT md5(coalesce(string_agg(g, ',' ORDER BY g), '')) FROM (SELECT string_agg(id::text, ' ' ORDER BY id) AS g "
    "FROM \"VC Usage\" WHERE customer_id IS NOT NULL GROUP BY customer_id) s";

// `quarantine assign` links a tech id's quarantined rows in committed set-based
// batches (migration 0044) like the row-by-row SQL function does, and also the rows
// of their sessions that had no contact data of their own.
TEST_F(LegacyUpgradeTest, QuarantineAssignLinksTheRowsLikeTheRowByRowSqlFunction) {
  auto upgrade = [this](const std::string& url) {
    make_legacy_database(url);
    tradesphere::db::adopt_legacy_database(url);
    MigrationRunner(url).up();
    ASSERT_TRUE(tradesphere::db::backfill_chat_links(url, {}).finished);
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec("INSERT INTO app_users (tech_id, company_id, role) VALUES "
            "('tech-ghost', 'a0000000-0000-0000-0000-00000000000a', 'agent')");
    tx.commit();
  };
  upgrade(owner_url());
  const auto quarantined = scalar("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL");
  ASSERT_GT(quarantined, 0);
  const auto with_contact = scalar(
      "SELECT count(*) FROM \"VC Usage\" WHERE company_id IS NULL AND tech_id = 'tech-ghost' "
      "AND (customer_name IS NOT NULL OR customer_email IS NOT NULL OR customer_phone IS NOT NULL)");

  auto unknown = cli({"quarantine", "assign", "--tech-id", "tech-ghost", "--company", "no-such-company"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL"), quarantined);

  auto assigned = cli({"quarantine", "assign", "--tech-id", "tech-ghost", "--company", "acme"});
  ASSERT_EQ(assigned.exit_code, 0) << assigned.output;
  EXPECT_NE(assigned.output.find("assigned " + std::to_string(quarantined) + " chat row(s) of tech id tech-ghost to acme"),
            std::string::npos)
      << assigned.output;
  EXPECT_EQ(scalar("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE tech_id = 'tech-ghost' "
                   "AND company_id = 'a0000000-0000-0000-0000-00000000000a'"),
            quarantined);
  // every row with contact data is linked (its own contact, or its session's customer)
  EXPECT_GE(scalar("SELECT count(*) FROM \"VC Usage\" WHERE tech_id = 'tech-ghost' AND customer_id IS NOT NULL"),
            with_contact);
  auto verify = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(verify.ok) << verify.to_text();
  auto again = cli({"quarantine", "assign", "--tech-id", "tech-ghost", "--company", "acme"});
  EXPECT_NE(again.output.find("assigned 0 chat row(s)"), std::string::npos) << again.output;

  // Against the SQL function assign_quarantined_chat_rows(), which links the assigned
  // rows one by one in id order: the same customers and the same links for them; the
  // command also links the rows of their sessions that carry no contact data of their
  // own (the backfill's batch examines every unlinked row of the range), through the
  // session's customer, as a backfill in id order would.
  tradesphere::testing::FreshDatabase sql(tradesphere::testing::DatabaseKind::kEmpty);
  upgrade(sql.owner_url());
  {
    pqxx::connection conn(sql.owner_url());
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec("SELECT assign_quarantined_chat_rows('tech-ghost', 'a0000000-0000-0000-0000-00000000000a')")[0][0]
                  .as<std::int64_t>(),
              quarantined);
    tx.commit();
  }
  EXPECT_EQ(scalar_at(sql.owner_url(), "SELECT count(*) FROM customers"), scalar("SELECT count(*) FROM customers"));
  const std::string ghost_partition =
      "SELECT md5(coalesce(string_agg(g, ',' ORDER BY g), '')) FROM (SELECT string_agg(id::text, ' ' ORDER BY id) AS g "
      "FROM \"VC Usage\" WHERE customer_id IS NOT NULL AND tech_id = 'tech-ghost' GROUP BY customer_id) s";
  const std::string extra_links =
      "SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL";
  pqxx::connection a(owner_url());
  pqxx::connection b(sql.owner_url());
  pqxx::read_transaction ta(a);
  pqxx::read_transaction tb(b);
  EXPECT_EQ(ta.exec(ghost_partition)[0][0].as<std::string>(), tb.exec(ghost_partition)[0][0].as<std::string>());
  EXPECT_GE(ta.exec(extra_links)[0][0].as<std::int64_t>(), tb.exec(extra_links)[0][0].as<std::int64_t>());
  EXPECT_EQ(ta.exec("SELECT count(*) FROM \"VC Usage\" v WHERE v.customer_id IS NOT NULL "
                    "AND v.customer_name IS NULL AND v.customer_email IS NULL AND v.customer_phone IS NULL")[0][0]
                    .as<std::int64_t>() -
                tb.exec("SELECT count(*) FROM \"VC Usage\" v WHERE v.customer_id IS NOT NULL "
                        "AND v.customer_name IS NULL AND v.customer_email IS NULL AND v.customer_phone IS NULL")[0][0]
                    .as<std::int64_t>(),
            ta.exec(extra_links)[0][0].as<std::int64_t>() - tb.exec(extra_links)[0][0].as<std::int64_t>())
      << "the only extra links are rows without contact data";
  EXPECT_EQ(ta.exec("SELECT count(*) FROM customer_metrics_drift('a0000000-0000-0000-0000-00000000000a')")[0][0]
                .as<std::int64_t>(),
            0);
}

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

// ---------------------------------------------------------------------------
// The runbook on legacy databases as real deployments have them (issue 15): each
// variant is built here in SQL (not with migration 0001), then
//   adopt -> up -> backfill -> verify (exit 0) -> a legacy-shape insert is linked
//   -> migrate down --to 1 -> the legacy tables are back: same shape (columns,
//   types, defaults, NOT NULL, constraints, indexes, sequence) and the same rows
//   (a checksum over each whole row in its legacy type).
// Blocking variants: adopt refuses, names the difference and the fix, records nothing.

struct LegacyVariant {
  const char* name;
  bool defaults = true;           // the column defaults of 0001
  bool keys = true;               // primary keys, UNIQUE (slug), app_users -> companies
  bool tech_id_unique = false;    // app_users.tech_id UNIQUE without a primary key (the issue's shape)
  bool not_null = true;           // the NOT NULLs of 0001
  bool varchar_timestamp = false; // varchar(200) for text, timestamp for timestamptz, integer "VC Usage".id
  bool null_created_at = false;   // some chat rows without created_at
  bool extra_columns = false;
  bool duplicate_tech_ids = false;  // identical copies of two app_users rows
  bool customers = true;          // legacy customers rows
  bool stale_customers = false;   // customers of unknown companies / without company
  const char* after_data = "";    // more SQL (blocking variants)
  std::vector<const char*> adopt_says = {};  // substrings of adopt's output (or refusal)
  bool blocking = false;
  std::vector<const char*> backfill_says = {};  // substrings of backfill's output
};

void PrintTo(const LegacyVariant& v, std::ostream* os) { *os << v.name; }

constexpr int kVariantChatRows = 1200;

const char* kCompanies = R"sql(
  INSERT INTO companies (id, slug, name) VALUES
    ('a0000000-0000-0000-0000-00000000000a', 'acme', 'Acme'),
    ('b0000000-0000-0000-0000-00000000000b', 'bolt', 'Bolt'),
    ('c0000000-0000-0000-0000-00000000000c', 'cargo', 'Cargo');
  INSERT INTO app_users (tech_id, company_id, role) VALUES
    ('tech-a1', 'a0000000-0000-0000-0000-00000000000a', 'agent'),
    ('tech-a2', 'a0000000-0000-0000-0000-00000000000a', 'admin'),
    ('tech-b1', 'b0000000-0000-0000-0000-00000000000b', 'agent'),
    ('tech-c1', 'c0000000-0000-0000-0000-00000000000c', 'agent');
)sql";

std::string legacy_variant_sql(const LegacyVariant& v) {
  const std::string txt = v.varchar_timestamp ? "varchar(200)" : "text";
  const std::string ts = v.varchar_timestamp ? "timestamp" : "timestamptz";
  const std::string nn = v.not_null ? " NOT NULL" : "";
  auto def = [&](const std::string& d) { return v.defaults ? " DEFAULT " + d : std::string(); };
  auto extra = [&](const std::string& c) { return v.extra_columns ? ", " + c : std::string(); };
  std::string id_type = v.defaults ? (v.varchar_timestamp ? "serial" : "bigserial")
                                   : (v.varchar_timestamp ? "integer" : "bigint");
  std::string sql;
  sql += "CREATE TABLE companies (id uuid" + std::string(v.keys ? " PRIMARY KEY" : "") + def("gen_random_uuid()") +
         ", slug " + txt + nn + (v.keys ? " UNIQUE" : "") + ", name " + txt + nn + extra("legacy_code integer") + ");\n";
  sql += "CREATE TABLE app_users (tech_id " + txt +
         (v.keys ? " PRIMARY KEY" : v.tech_id_unique ? " UNIQUE" : "") + ", company_id uuid" + nn +
         (v.keys ? " REFERENCES companies (id)" : "") + ", role " + txt + nn + def("'agent'") +
         extra("email text") + ");\n";
  sql += "CREATE TABLE \"VC Usage\" (id " + id_type + (v.keys ? " PRIMARY KEY" : "") +
         ", session_id " + txt + ", tech_id " + txt + ", customer_name " + txt + ", customer_email " + txt +
         ", customer_phone " + txt + ", user_message " + txt + ", ai_response " + txt + ", created_at " + ts +
         (v.null_created_at ? "" : nn) + def("now()") + extra("channel text NOT NULL DEFAULT 'web'") + ");\n";
  sql += "CREATE TABLE customers (id uuid" + std::string(v.keys ? " PRIMARY KEY" : "") + def("gen_random_uuid()") +
         ", company_id uuid, name " + txt + ", email " + txt + ", phone " + txt + ", created_at " + ts + nn +
         def("now()") + extra("loyalty_points integer") + ");\n";
  sql += "SET TIME ZONE 'UTC';\n";
  sql += kCompanies;
  sql += R"sql(
  INSERT INTO "VC Usage" (id, session_id, tech_id, customer_name, customer_email, customer_phone,
                          user_message, ai_response, created_at)
  SELECT g, 'sess-' || (g / 3),
         CASE WHEN g % 50 = 0 THEN 'tech-ghost'
              ELSE (ARRAY['tech-a1','tech-a2','tech-b1','tech-c1'])[1 + (g / 3) % 4] END,
         CASE WHEN g % 7 = 0 THEN NULL
              WHEN g % 5 = 0 THEN '  ' || upper('person ' || (g / 3) % 90)
              ELSE 'Person ' || (g / 3) % 90 END,
         CASE WHEN g % 7 = 0 THEN NULL
              WHEN g % 3 = 0 THEN ' Person' || (g / 3) % 90 || '@Example.COM '
              WHEN g % 3 = 1 THEN 'person' || (g / 3) % 90 || '@example.com'
              ELSE NULL END,
         CASE WHEN g % 7 = 0 THEN NULL
              WHEN g % 4 = 0 THEN '(415) 555-' || lpad(((g / 3) % 90)::text, 4, '0')
              WHEN g % 4 = 1 THEN '+1 415 555 ' || lpad(((g / 3) % 90)::text, 4, '0')
              ELSE NULL END,
         'question ' || g, 'answer ' || g,
         CASE WHEN )sql" + std::string(v.null_created_at ? "g % 13 = 0" : "false") + R"sql( THEN NULL
              ELSE timestamptz '2025-01-01 00:00:00.123456+00' + g * interval '1 minute' END
    FROM generate_series(1, )sql" + std::to_string(kVariantChatRows) + ") g;\n";
  if (v.defaults) sql += "SELECT setval(pg_get_serial_sequence('\"VC Usage\"', 'id'), (SELECT max(id) FROM \"VC Usage\"));\n";
  if (v.customers) {
    // Legacy customers, some of them the chat's people (the backfill links to them).
    sql += "INSERT INTO customers (id, company_id, name, email, phone, created_at) "
           "SELECT md5('customer' || i)::uuid, (ARRAY['a0000000-0000-0000-0000-00000000000a', "
           "'b0000000-0000-0000-0000-00000000000b', 'c0000000-0000-0000-0000-00000000000c'])[1 + i % 3]::uuid, "
           "'Person ' || i, 'person' || i || '@example.com', NULL, "
           "timestamptz '2024-06-01 00:00:00+00' + i * interval '1 hour' FROM generate_series(0, 29) i;\n";
  }
  if (v.stale_customers) {
    sql += "INSERT INTO customers (id, company_id, name, email, phone, created_at) VALUES "
           "('d0000000-0000-0000-0000-0000000000d1', 'dead0000-0000-0000-0000-00000000dead', 'Stale Person', "
           "'stale@example.com', NULL, '2024-01-01 00:00:00+00'), "
           "('d0000000-0000-0000-0000-0000000000d2', NULL, 'Nobody', NULL, NULL, '2024-01-01 00:00:00+00');\n";
  }
  if (v.duplicate_tech_ids) {
    sql += "INSERT INTO app_users SELECT * FROM app_users WHERE tech_id IN ('tech-a1', 'tech-b1');\n";
  }
  sql += v.after_data;
  return sql;
}

// Everything that makes up the shape of the four legacy tables.
constexpr const char* kLegacyShape = R"sql(
WITH t AS (SELECT c.oid FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
              AND c.relname IN ('companies', 'app_users', 'VC Usage', 'customers'))
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
  SELECT a.attrelid::regclass::text || '.' || a.attname || ' #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attidentity::text AS x
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid IN (SELECT oid FROM t) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT conrelid::regclass::text || ' constraint ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE conrelid IN (SELECT oid FROM t)
  UNION ALL
  SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN (SELECT oid FROM t)
  UNION ALL
  SELECT 'sequence ' || coalesce(pg_get_serial_sequence('"VC Usage"', 'id'), 'none')
) s)sql";

class LegacyVariantTest : public LegacyUpgradeTest, public ::testing::WithParamInterface<LegacyVariant> {
 protected:
  std::string text(const std::string& sql) {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("SET TIME ZONE 'UTC'");
    auto r = tx.exec(sql);
    return r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }
  // One checksum per legacy table over whole rows (legacy types, extra columns included).
  std::string checksums(const std::string& customers_filter) {
    std::string out;
    for (const std::string table : {"companies", "app_users", "\"VC Usage\"", "customers"}) {
      const std::string where = table == "customers" ? customers_filter : "true";
      out += table + " " +
             text("SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM " +
                  table + " t WHERE " + where) +
             "\n";
    }
    return out;
  }
};

TEST_P(LegacyVariantTest, RunbookLinksEveryRowVerifiesAndRollsBackToTheExactLegacyTables) {
  const auto& v = GetParam();
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec(legacy_variant_sql(v));
    tx.commit();
  }
  const auto shape_before = text(kLegacyShape);
  const auto differences_before = tradesphere::db::legacy_shape_differences(owner_url());
  const auto rows_before = checksums("true");
  const auto chat_rows = scalar("SELECT count(*) FROM \"VC Usage\"");
  const auto app_users = scalar("SELECT count(*) FROM app_users");
  const auto customers = scalar("SELECT count(*) FROM customers");

  auto adopt = cli({"migrate", "adopt"});
  for (const char* says : v.adopt_says) EXPECT_NE(adopt.output.find(says), std::string::npos) << adopt.output;
  if (v.blocking) {
    EXPECT_NE(adopt.exit_code, 0) << adopt.output;
    EXPECT_NE(adopt.output.find("nothing was changed"), std::string::npos) << adopt.output;
    EXPECT_FALSE(MigrationRunner(owner_url()).has_history()) << "nothing recorded after a refusal";
    EXPECT_EQ(scalar("SELECT count(*) FROM pg_class WHERE relname IN ('legacy_normalization', 'legacy_snapshot_rows')"),
              0);
    EXPECT_EQ(text(kLegacyShape), shape_before);
    EXPECT_EQ(checksums("true"), rows_before);
    return;
  }
  ASSERT_EQ(adopt.exit_code, 0) << adopt.output;
  EXPECT_EQ(text(kLegacyShape), shape_before) << "adopt only records the plan; migrate up normalizes";
  auto up = cli({"migrate", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  const auto steps = scalar("SELECT count(*) FROM legacy_normalization");
  EXPECT_EQ(scalar("SELECT count(*) FROM legacy_normalization WHERE applied_at IS NOT NULL"), steps);
  if (steps > 0) {
    EXPECT_NE(up.output.find("normalized the adopted legacy shape"), std::string::npos) << up.output;
  }

  auto backfill = cli({"backfill", "--batch", "250"});
  ASSERT_EQ(backfill.exit_code, 0) << backfill.output;
  for (const char* says : GetParam().backfill_says) EXPECT_NE(backfill.output.find(says), std::string::npos) << backfill.output;
  EXPECT_NE(backfill.output.find("sync failed:       0 "), std::string::npos) << backfill.output;
  EXPECT_NE(backfill.output.find("row-by-row batches: 0 "), std::string::npos)
      << "no row fails: every batch is linked set-based (migration 0035)\n" << backfill.output;
  auto verify = cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output << "\n" << adopt.output;

  // Zero rows lost; every row with a contact (and a known tech id) linked.
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\""), chat_rows);
  EXPECT_EQ(scalar("SELECT count(*) FROM app_users") +
                scalar("SELECT count(*) FROM legacy_normalization_parked_rows WHERE table_name = 'app_users'"),
            app_users);
  EXPECT_EQ(scalar("SELECT count(*) FROM customers WHERE source = 'import'") +
                scalar("SELECT count(*) FROM legacy_customers_quarantine"),
            customers);
  EXPECT_EQ(scalar("SELECT count(*) FROM chat_sync_failures WHERE resolved_at IS NULL"), 0);
  EXPECT_GT(scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL"), chat_rows / 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" v WHERE customer_id IS NULL AND company_id IS NOT NULL "
                   "AND (normalize_email(customer_email) IS NOT NULL OR customer_phone IS NOT NULL)"),
            0);

  // The unchanged legacy writer (no id, no created_at, no company): stored and linked.
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, user_message, ai_response) "
            "VALUES ('after-upgrade', 'tech-b1', 'Late Arrival', 'LATE@example.com ', 'hi', 'hello')");
    tx.commit();
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 'after-upgrade' AND customer_id IS NOT NULL "
                   "AND created_at IS NOT NULL AND id > 0"),
            1);
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("DELETE FROM \"VC Usage\" WHERE session_id = 'after-upgrade'");
    tx.commit();
  }

  auto down = cli({"migrate", "down", "--to", "1"});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  if (steps > 0) {
    EXPECT_NE(down.output.find("undid the legacy normalization"), std::string::npos) << down.output;
  }
  EXPECT_EQ(text(kLegacyShape), shape_before) << "the rollback restores the legacy shape exactly";
  EXPECT_EQ(tradesphere::db::legacy_shape_differences(owner_url()), differences_before);
  EXPECT_EQ(checksums("id::text IN (SELECT row_key FROM legacy_snapshot_rows WHERE table_name = 'customers')"),
            rows_before)
      << "the rollback returns the exact legacy rows";
  auto after = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(after.ok) << after.to_text();
}

INSTANTIATE_TEST_SUITE_P(
    LegacyVariants, LegacyVariantTest,
    ::testing::Values(
        LegacyVariant{.name = "Baseline", .adopt_says = {"exactly the baseline shape"}},
        LegacyVariant{.name = "NoDefaultsTechIdUniqueNoPrimaryKey",  // the shape of the issue
                      .defaults = false,
                      .keys = false,
                      .tech_id_unique = true,
                      .adopt_says = {"\"customers\".id: no default (0001: gen_random_uuid()) — normalized",
                                     "\"customers\".created_at: no default (0001: now()) — normalized",
                                     "\"VC Usage\".id: no default (0001: bigserial) — normalized",
                                     "\"app_users\" (primary key): no primary key"}},
        LegacyVariant{.name = "NoDefaults", .defaults = false, .adopt_says = {"\"app_users\".role: no default"}},
        LegacyVariant{.name = "NoKeysNoNotNull",
                      .keys = false,
                      .not_null = false,
                      .adopt_says = {"\"companies\".slug: not unique (0001: UNIQUE) — normalized",
                                     "\"app_users\".company_id: no foreign key to companies",
                                     "\"customers\".created_at: nullable (0001: NOT NULL); no row is NULL — normalized"}},
        LegacyVariant{.name = "VarcharAndTimestamp",
                      .varchar_timestamp = true,
                      .adopt_says = {"\"VC Usage\".created_at: expected timestamp with time zone, found timestamp "
                                     "without time zone — normalized",
                                     "\"customers\".email: expected text, found character varying(200) — normalized",
                                     "\"VC Usage\".id: expected bigint, found integer — normalized"}},
        LegacyVariant{.name = "ChatRowsWithoutCreatedAt",
                      .defaults = false,
                      .null_created_at = true,
                      .adopt_says = {"\"VC Usage\".created_at: nullable (0001: NOT NULL); 92 row(s) are NULL — kept"}},
        LegacyVariant{.name = "ExtraColumns",
                      .extra_columns = true,
                      .adopt_says = {"\"customers\".loyalty_points: unexpected column (integer) — kept",
                                     "\"VC Usage\".channel: unexpected column (text) — kept"}},
        LegacyVariant{.name = "DuplicateTechIds",
                      .keys = false,
                      .duplicate_tech_ids = true,
                      .adopt_says = {"\"app_users\".tech_id: 2 tech_id value(s) on identical rows: tech-a1 (2 copies), "
                                     "tech-b1 (2 copies) — normalized"}},
        LegacyVariant{.name = "EmptyCustomers", .defaults = false, .customers = false},
        LegacyVariant{.name = "StaleCustomers", .stale_customers = true},
        LegacyVariant{.name = "EverythingAtOnce",
                      .defaults = false,
                      .keys = false,
                      .not_null = false,
                      .varchar_timestamp = true,
                      .null_created_at = true,
                      .extra_columns = true,
                      .duplicate_tech_ids = true,
                      .stale_customers = true},
        LegacyVariant{.name = "CustomersSharingAnEmail",  // one in another case and padding, one exact
                      .after_data = "INSERT INTO customers (id, company_id, name, email, phone, created_at) VALUES "
                                    "(md5('dup1')::uuid, 'a0000000-0000-0000-0000-00000000000a', 'Person 0 Copy', "
                                    "' PERSON0@Example.com ', NULL, '2024-06-02 00:00:00+00'), "
                                    "(md5('dup2')::uuid, 'a0000000-0000-0000-0000-00000000000a', 'Person 3', "
                                    "'person3@example.com', '+1 415 555 0003', '2024-06-03 00:00:00+00');",
                      .adopt_says = {"\"customers\".email: 2 email(s) on more than one customer of a company — kept"},
                      .backfill_says = {"customers merged:  2 (sharing an email with an older customer: 2 merge(s)"}},
        LegacyVariant{.name = "MessyChatValues",
                      .after_data = "UPDATE \"VC Usage\" SET customer_email = repeat('x', 4990) || '@example.com' WHERE id = 5; "
                                    "UPDATE \"VC Usage\" SET customer_name = 'Zoë 🙂 Ñandú  ', customer_email = 'zoe@例え.jp' WHERE id = 8; "
                                    "UPDATE \"VC Usage\" SET tech_id = NULL WHERE id = 10; "
                                    "UPDATE \"VC Usage\" SET customer_phone = '+44 20 7946 0958 ext. 12' WHERE id = 11; "
                                    "UPDATE \"VC Usage\" SET customer_email = 'not-an-email', customer_phone = 'n/a' WHERE id = 13; "
                                    "UPDATE \"VC Usage\" SET session_id = NULL WHERE id BETWEEN 20 AND 30; "
                                    "UPDATE customers SET email = '  ', phone = '' WHERE name = 'Person 4';"},
        LegacyVariant{.name = "IntegerSessionIds",
                      .after_data = "ALTER TABLE \"VC Usage\" ALTER COLUMN session_id TYPE bigint "
                                    "USING substr(session_id, 6)::bigint;",
                      .adopt_says = {"\"VC Usage\".session_id: expected text, found bigint — normalized"}},
        LegacyVariant{.name = "TextCustomerIds",
                      .after_data = "ALTER TABLE customers ALTER COLUMN id TYPE text;",
                      .adopt_says = {"\"customers\".id: expected uuid, found text — normalized"}},
        LegacyVariant{.name = "ExtraNotNullColumnBlocks",
                      .after_data = "ALTER TABLE customers ADD COLUMN account_ref text; "
                                    "UPDATE customers SET account_ref = 'ACC-' || id; "
                                    "ALTER TABLE customers ALTER COLUMN account_ref SET NOT NULL;",
                      .adopt_says = {"\"customers\".account_ref: unexpected column (text) NOT NULL without a default "
                                     "— blocking"},
                      .blocking = true},
        LegacyVariant{.name = "TextTimestampsBlock",
                      .after_data = "ALTER TABLE \"VC Usage\" ALTER COLUMN created_at TYPE text USING created_at::text;",
                      .adopt_says = {"\"VC Usage\".created_at: expected timestamp with time zone, found text — blocking"},
                      .blocking = true},
        LegacyVariant{.name = "ConflictingTechIdsBlock",
                      .keys = false,
                      .after_data = "INSERT INTO app_users VALUES ('tech-a1', 'b0000000-0000-0000-0000-00000000000b', "
                                    "'agent');",
                      .adopt_says = {"\"app_users\".tech_id: 1 tech_id value(s) on rows that differ: tech-a1 (2 rows) "
                                     "— blocking: decide which row is right"},
                      .blocking = true},
        LegacyVariant{.name = "MissingColumnAndUnconvertibleTypeBlock",
                      .after_data = "ALTER TABLE \"VC Usage\" DROP COLUMN ai_response; "
                                    "ALTER TABLE customers ALTER COLUMN phone TYPE bytea USING convert_to(phone, 'UTF8');",
                      .adopt_says = {"\"VC Usage\".ai_response: missing column (expected text) — blocking",
                                     "\"customers\".phone: expected text, found bytea — blocking: convert it yourself"},
                      .blocking = true}),
    [](const ::testing::TestParamInfo<LegacyVariant>& info) { return std::string(info.param.name); });

// Honest reports: a sync that fails is counted by cause, never as "no contact".
TEST_F(LegacyUpgradeTest, BackfillAndVerifyNameTheCauseOfSyncFailures) {
  make_legacy_database();
  tradesphere::db::adopt_legacy_database(owner_url());
  MigrationRunner(owner_url()).up();
  {
    // What an unnormalized legacy customers table did to every new customer (issue 15).
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE customers ALTER COLUMN id DROP DEFAULT");
    tx.commit();
  }
  auto backfill = cli({"backfill"});
  ASSERT_EQ(backfill.exit_code, 0) << backfill.output;
  const auto failed = scalar("SELECT count(DISTINCT vc_usage_id) FROM chat_sync_failures WHERE resolved_at IS NULL");
  ASSERT_GT(failed, 0);
  const auto no_contact = scalar(
      "SELECT count(*) FROM \"VC Usage\" WHERE company_id IS NOT NULL AND customer_id IS NULL AND customer_name IS NULL "
      "AND customer_email IS NULL AND customer_phone IS NULL");
  EXPECT_NE(backfill.output.find("sync failed:       " + std::to_string(failed) + " "), std::string::npos)
      << backfill.output;
  EXPECT_NE(backfill.output.find("left orphaned:     " + std::to_string(no_contact) + " "), std::string::npos)
      << backfill.output;
  EXPECT_NE(backfill.output.find(std::to_string(failed) + " row(s): error SQLSTATE 23502: null value in column \"id\""),
            std::string::npos)
      << backfill.output;
  EXPECT_EQ(backfill.output.find("row-by-row batches: 0 "), std::string::npos)
      << "a batch with a failing row is linked again row by row, recording each failure\n" << backfill.output;

  auto verify = cli({"verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("chat row(s) are not linked because the sync failed"), std::string::npos)
      << verify.output;
  EXPECT_NE(verify.output.find("error SQLSTATE 23502: null value in column \"id\" of relation \"customers\""),
            std::string::npos)
      << verify.output;
  auto report = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_EQ(report.open_sync_failures, failed);

  // Resumed before the cause is fixed: every failed row is tried again, fails again,
  // keeps its open failure, and the command says so.
  const auto rows = scalar("SELECT count(*) FROM \"VC Usage\"");
  auto unfixed = cli({"sync", "resume"});
  ASSERT_EQ(unfixed.exit_code, 0) << unfixed.output;
  EXPECT_NE(unfixed.output.find("0 row(s) linked; " + std::to_string(failed) + " row(s) still failing"),
            std::string::npos)
      << unfixed.output;
  EXPECT_EQ(scalar("SELECT count(DISTINCT vc_usage_id) FROM chat_sync_failures WHERE resolved_at IS NULL"), failed);

  // Fixed, resumed: the failures are retried in committed set-based batches (the
  // one-transaction, row-by-row retry took ~25 ms a row here), every failed row is
  // linked, nothing is lost and verify passes.
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE customers ALTER COLUMN id SET DEFAULT gen_random_uuid()");
    tx.commit();
  }
  auto resumed = cli({"sync", "resume"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto linked = scalar("SELECT count(*) FROM \"VC Usage\" WHERE customer_id IS NOT NULL");
  // the failed rows, and the rows without contact data of their sessions (which the
  // session's first row links once it is linked)
  EXPECT_GT(linked, failed);
  EXPECT_NE(resumed.output.find("chat sync resumed; " + std::to_string(linked) + " row(s) linked\n"),
            std::string::npos)
      << resumed.output;
  EXPECT_EQ(scalar("SELECT count(*) FROM chat_sync_failures WHERE resolved_at IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM \"VC Usage\""), rows);
  auto fixed = tradesphere::db::verify_upgrade(owner_url());
  EXPECT_TRUE(fixed.ok) << fixed.to_text();
  auto again = cli({"sync", "resume"});
  EXPECT_NE(again.output.find("chat sync resumed; 0 row(s) linked\n"), std::string::npos) << again.output;

  // The same customers and links as a backfill of the same legacy data that never failed.
  tradesphere::testing::FreshDatabase clean(tradesphere::testing::DatabaseKind::kEmpty);
  make_legacy_database(clean.owner_url());
  tradesphere::db::adopt_legacy_database(clean.owner_url());
  MigrationRunner(clean.owner_url()).up();
  EXPECT_TRUE(tradesphere::db::backfill_chat_links(clean.owner_url(), {}).finished);
  EXPECT_EQ(scalar_at(clean.owner_url(), "SELECT count(*) FROM customers"), scalar("SELECT count(*) FROM customers"));
  pqxx::connection a(owner_url());
  pqxx::connection b(clean.owner_url());
  pqxx::read_transaction ta(a);
  pqxx::read_transaction tb(b);
  EXPECT_EQ(ta.exec(kLinkPartition)[0][0].as<std::string>(), tb.exec(kLinkPartition)[0][0].as<std::string>());
}

}  // namespace
