// `tradesphere-dev seed` (tools/devdata/seed_generator.hpp): COPY-loaded data must be exactly
// what the triggers would have produced (keys, events, audit rows, metrics without
// drift), deterministic for a seed, visible to the application role, and leave every
// trigger enabled.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "services/customer_crud_service.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "devdata/seed_generator.hpp"
#include "domain/request_context.hpp"
#include "support/chat_rows.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::testing::linked_customer;

using tradesphere::devdata::SeedOptions;
using tradesphere::devdata::seed_database;

long long scalar(const std::string& url, const std::string& sql, const std::string& company) {
  pqxx::connection c(url);
  pqxx::read_transaction tx(c);
  return tx.exec_params1(sql, company)[0].as<long long>();
}

std::vector<std::string> rows_as_text(const std::string& url, const std::string& sql, const std::string& company) {
  pqxx::connection c(url);
  pqxx::read_transaction tx(c);
  std::vector<std::string> out;
  for (const auto& row : tx.exec_params(sql, company)) {
    std::string line;
    for (const auto& f : row) line += (f.is_null() ? "<null>" : f.as<std::string>()) + "|";
    out.push_back(line);
  }
  return out;
}

SeedOptions small(std::uint64_t seed) {
  SeedOptions o;
  o.customers = 300;
  o.chats_per_customer = 4;
  o.duplicate_rate = 0.2;
  o.seed = seed;
  return o;
}

constexpr const char* kCustomerRows =
    "SELECT id, name, email, phone, address, lifecycle_stage, tags, created_at FROM customers "
    "WHERE company_id = $1::uuid ORDER BY id";
constexpr const char* kChatRows =
    "SELECT session_id, customer_name, customer_email, customer_phone, user_message, ai_response, created_at, "
    "customer_id FROM \"VC Usage\" WHERE company_id = $1::uuid ORDER BY id";

class SeedTest : public tradesphere::testing::PgTest {};

TEST_F(SeedTest, LoadsCustomersAndLinkedChatsWithoutMetricsDrift) {
  auto report = seed_database(owner_url(), small(7));
  ASSERT_EQ(report.companies.size(), 1u);
  const auto company = report.companies[0].id;
  EXPECT_EQ(report.customers, 300u);
  EXPECT_EQ(report.chat_rows, 1200u);
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM customers WHERE company_id = $1::uuid", company), 300);
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM \"VC Usage\" WHERE company_id = $1::uuid AND customer_id IS NOT NULL",
                   company),
            1200);
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM customer_metrics_drift($1::uuid)", company), 0);
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM customer_metrics WHERE company_id = $1::uuid", company), 300);
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT sum(message_count) FROM customer_metrics WHERE company_id = $1::uuid", company),
            1200);
}

TEST_F(SeedTest, WritesWhatTheTriggersWouldHaveWritten) {
  const auto company = seed_database(owner_url(), small(8)).companies[0].id;
  // keys: exactly what sync_customer_matching_keys() computes for every customer
  EXPECT_EQ(scalar(owner_url(), R"SQL(
      SELECT count(*) FROM (
        (SELECT c.id, k.t, k.v FROM customers c JOIN companies co ON co.id = c.company_id,
                LATERAL (VALUES ('email', normalize_email(c.email)), ('phone', normalize_phone(c.phone, co.default_country_code)),
                                ('name', normalize_name(c.name))) k (t, v)
          WHERE c.company_id = $1::uuid AND k.v IS NOT NULL
         EXCEPT SELECT customer_id, key_type, key_value FROM customer_matching_keys WHERE company_id = $1::uuid)
        UNION ALL
        (SELECT customer_id, key_type, key_value FROM customer_matching_keys WHERE company_id = $1::uuid
         EXCEPT SELECT c.id, k.t, k.v FROM customers c JOIN companies co ON co.id = c.company_id,
                LATERAL (VALUES ('email', normalize_email(c.email)), ('phone', normalize_phone(c.phone, co.default_country_code)),
                                ('name', normalize_name(c.name))) k (t, v)
          WHERE c.company_id = $1::uuid AND k.v IS NOT NULL)) d)SQL",
                   company),
            0);
  EXPECT_GT(scalar(owner_url(), "SELECT count(*) FROM customer_matching_keys WHERE company_id = $1::uuid", company), 600);
  // search rows: one per active customer, with the values customers_after_insert derives
  EXPECT_EQ(scalar(owner_url(), R"SQL(
      SELECT count(*) FROM customers c
        JOIN customer_search s ON s.company_id = c.company_id AND s.customer_id = c.id
       WHERE c.company_id = $1::uuid AND c.status = 'active' AND s.name IS NOT DISTINCT FROM c.name
         AND s.email_lc IS NOT DISTINCT FROM lower(c.email) AND s.phone_digits IS NOT DISTINCT FROM phone_digits(c.phone))SQL",
                   company),
            300);
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM customer_events WHERE company_id = $1::uuid AND event_type = 'created'", company),
            300);
  // 4 chats per customer = 2 conversations each, one conversation_linked event per conversation
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM customer_events WHERE company_id = $1::uuid AND event_type = 'conversation_linked'",
                   company),
            600);
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM customer_audit_log WHERE company_id = $1::uuid AND table_name = 'customers' "
                   "AND operation = 'INSERT'",
                   company),
            300);
  // the product's insert path queues every new active customer for duplicate scoring
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM duplicate_queue WHERE company_id = $1::uuid", company), 300);
  // row-level security stays forced on the tables the seed loads
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'VC Usage') AND relforcerowsecurity "
                   "AND $1::text IS NOT NULL",
                   company),
            2);
  // every trigger stays enabled
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O' AND $1::text IS NOT NULL",
                   company),
            0);
}

TEST_F(SeedTest, SeededDataWorksWithTheProductTriggersAndTheApplicationRole) {
  const auto seeded = seed_database(owner_url(), small(9)).companies[0];
  const auto email = rows_as_text(owner_url(),
                                  "SELECT email, id FROM customers WHERE company_id = $1::uuid AND email IS NOT NULL "
                                  "ORDER BY id LIMIT 1",
                                  seeded.id)[0];
  const auto bar = email.find('|');
  const std::string address = email.substr(0, bar);
  const std::string id = email.substr(bar + 1, email.size() - bar - 2);
  {
    // a new chat row with a seeded customer's email links to that customer (the keys are there)
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.company_id', $1, true)", seeded.id);
    auto row = tx.exec_params1("INSERT INTO \"VC Usage\" (company_id, session_id, customer_email, user_message) "
                               "VALUES ($1::uuid, 'new-session', $2, 'hello again') RETURNING id",
                               seeded.id, address)[0].as<long long>();
    EXPECT_EQ(linked_customer(tx, row), id);
    tx.commit();
  }
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM customer_metrics_drift($1::uuid)", seeded.id), 0);

  tradesphere::db::Database db(tradesphere::db::PoolOptions{app_url()});
  tradesphere::services::CustomerCrudService repo(db);
  tradesphere::domain::RequestContext ctx{seeded.id, "test", tradesphere::domain::Role::kAdmin, "t"};
  tradesphere::domain::CustomerFilters f;
  f.limit = 1000;
  EXPECT_EQ(repo.get_customers(ctx, f).items.size(), 300u);
}

TEST_F(SeedTest, IsDeterministicForASeed) {
  auto a = seed_database(owner_url(), small(11)).companies[0];
  auto b = seed_database(owner_url(), small(11)).companies[0];
  auto c = seed_database(owner_url(), small(12)).companies[0];
  EXPECT_NE(a.slug, b.slug);
  EXPECT_EQ(a.duplicates, b.duplicates);
  EXPECT_GT(a.duplicates, 0u);
  const auto ca = rows_as_text(owner_url(), kCustomerRows, a.id);
  EXPECT_EQ(ca, rows_as_text(owner_url(), kCustomerRows, b.id));
  EXPECT_NE(ca, rows_as_text(owner_url(), kCustomerRows, c.id));
  EXPECT_EQ(rows_as_text(owner_url(), kChatRows, a.id), rows_as_text(owner_url(), kChatRows, b.id));
}

TEST_F(SeedTest, PlantsDuplicatesThatShareAContactKey) {
  auto o = small(13);
  o.duplicate_rate = 0.3;
  const auto seeded = seed_database(owner_url(), o).companies[0];
  EXPECT_GT(seeded.duplicates, 30u);
  // customers sharing a normalized email or phone with another customer
  EXPECT_GT(scalar(owner_url(),
                   "SELECT count(DISTINCT customer_id) FROM customer_matching_keys k WHERE company_id = $1::uuid "
                   "AND key_type IN ('email', 'phone') AND EXISTS (SELECT 1 FROM customer_matching_keys k2 "
                   "WHERE k2.company_id = k.company_id AND k2.key_type = k.key_type AND k2.key_value = k.key_value "
                   "AND k2.customer_id <> k.customer_id)",
                   seeded.id),
            30);
}

TEST_F(SeedTest, LegacyModeRefusesAMigratedDatabase) {
  auto o = small(14);
  o.legacy = true;
  EXPECT_THROW(seed_database(owner_url(), o), std::runtime_error);
}

class LegacySeedTest : public tradesphere::testing::EmptyPgTest {};

TEST_F(LegacySeedTest, WritesTheLegacyShapeThatTheUpgradeLinks) {
  tradesphere::db::MigrationRunner(owner_url()).up(tradesphere::db::kLegacyBaselineVersion);
  auto o = small(15);
  o.legacy = true;
  const auto seeded = seed_database(owner_url(), o).companies[0];
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM customers WHERE company_id = $1::uuid", seeded.id), 300);
  EXPECT_EQ(scalar(owner_url(),
                   "SELECT count(*) FROM \"VC Usage\" v JOIN app_users u ON u.tech_id = v.tech_id "
                   "WHERE u.company_id = $1::uuid",
                   seeded.id),
            1200);
  // the upgrade (migrations 0002+) backfills company_id from tech_id
  tradesphere::db::MigrationRunner(owner_url()).up();
  EXPECT_EQ(scalar(owner_url(), "SELECT count(*) FROM \"VC Usage\" WHERE company_id = $1::uuid", seeded.id), 1200);
}

}  // namespace
