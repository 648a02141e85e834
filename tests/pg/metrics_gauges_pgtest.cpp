// The business gauges of /metrics: customer_gauges() (migration 0013) and the
// cached services::BusinessGauges on top of it.
#include <chrono>
#include <map>
#include <string>
#include <tuple>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "core_fixture.hpp"
#include "services/customer_crud_service.hpp"
#include "db/metrics_repository.hpp"
#include "services/business_gauges.hpp"
#include "services/customer_lifecycle_service.hpp"

namespace {

using tradesphere::db::CustomerGaugeRow;
using tradesphere::services::CustomerCrudService;
using tradesphere::domain::LifecycleStage;
using tradesphere::services::BusinessGauges;
namespace db = tradesphere::db;

class MetricsGaugesTest : public tradesphere::testing::CoreTest {
 protected:
  // company A: Ann and Annie share an email (both duplicates), Bob's phone is shared
  // only with a deleted customer (not a duplicate), Carl and Karl share only a name
  // key (not a duplicate). company B: one customer with Ann's email (other tenant:
  // not a duplicate).
  void SetUp() override {
    CoreTest::SetUp();
    CustomerCrudService repo(*db);
    tradesphere::services::CustomerLifecycleService lifecycle(*db);
    auto make = [&](const tradesphere::domain::RequestContext& ctx, const std::string& name, const std::string& email,
                    const std::string& phone, LifecycleStage stage) {
      auto c = repo.create_customer(ctx, person(name, email, phone));
      if (stage != LifecycleStage::kProspect) lifecycle.update_lifecycle_stage(ctx, c.id, stage, std::nullopt);
      return c.id;
    };
    make(agent_a, "Ann Lee", "ann@example.com", "", LifecycleStage::kProspect);
    const auto annie = sharing_email(agent_a, "Annie Lee", "ANN@example.com");
    lifecycle.update_lifecycle_stage(agent_a, annie, LifecycleStage::kLead, std::nullopt);
    make(agent_a, "Bob Stone", "", "+1 415 555 0100", LifecycleStage::kCustomer);
    auto gone = make(agent_a, "Bobby Stone", "", "+1 415 555 0100", LifecycleStage::kCustomer);
    repo.soft_delete_customer(agent_a, gone);
    make(agent_a, "Carl Jung", "carl@example.com", "", LifecycleStage::kLead);
    make(agent_a, "Carl Jung", "karl@example.com", "", LifecycleStage::kLead);
    make(agent_b, "Ann Other", "ann@example.com", "", LifecycleStage::kChurned);
  }

  // A second active customer with an email another one has. The API refuses it
  // (409 email-in-use); imports, chat sync and legacy data can still produce it,
  // and the gauges must count it: written here as an import writes it.
  std::string sharing_email(const tradesphere::domain::RequestContext& ctx, const std::string& name,
                            const std::string& email) {
    return db->transact(ctx, "seed", [&](tradesphere::db::Tx& tx) {
      return tx
          .exec1("INSERT INTO customers (company_id, name, email, source) VALUES ($1, $2, $3, 'import') "
                 "RETURNING id::text",
                 ctx.company_id, name, email)[0]
          .as<std::string>();
    });
  }

  // (company, stage) -> (customers, with_duplicate)
  static std::map<std::pair<std::string, std::string>, std::pair<long, long>> by_key(
      const std::vector<CustomerGaugeRow>& rows) {
    std::map<std::pair<std::string, std::string>, std::pair<long, long>> out;
    for (const auto& r : rows) {
      EXPECT_TRUE(out.emplace(std::make_pair(r.company_id, r.lifecycle_stage),
                              std::make_pair(static_cast<long>(r.customers), static_cast<long>(r.with_duplicate)))
                      .second)
          << r.company_id << " " << r.lifecycle_stage;
    }
    return out;
  }

  std::map<std::pair<std::string, std::string>, std::pair<long, long>> expected() const {
    return {{{company_a, "prospect"}, {1, 1}},
            {{company_a, "lead"}, {3, 1}},
            {{company_a, "customer"}, {1, 0}},
            {{company_b, "churned"}, {1, 0}}};
  }
};

TEST_F(MetricsGaugesTest, CountsActiveCustomersPerStageAndDuplicatesOfEveryCompany) {
  // Called from company A's application session, it still sees company B's counts,
  // and hands the session back with company A still set.
  auto [rows, tenant_after] = db->transact(agent_a, "test", [&](db::Tx& tx) {
    auto r = db::load_customer_gauges(tx);
    auto t = tx.exec1("SELECT current_setting('app.company_id')")[0].as<std::string>();
    return std::make_tuple(r, t);
  });
  EXPECT_EQ(by_key(rows), expected());
  EXPECT_EQ(tenant_after, company_a);

  // Without a tenant (as /metrics calls it) the same, and the setting stays empty.
  tradesphere::domain::RequestContext none{"", "metrics", tradesphere::domain::Role::kViewer, "m"};
  auto [rows2, tenant2] = db->transact(none, "test", [&](db::Tx& tx) {
    auto r = db::load_customer_gauges(tx);
    auto t = tx.exec1("SELECT current_setting('app.company_id')")[0].as<std::string>();
    return std::make_tuple(r, t);
  });
  EXPECT_EQ(by_key(rows2), expected());
  EXPECT_EQ(tenant2, "");
}

TEST_F(MetricsGaugesTest, TheApplicationGetsCountsOnlyAndStillNoRows) {
  pqxx::connection app(app_url());
  pqxx::work w(app);
  auto r = w.exec("SELECT * FROM customer_gauges()");
  ASSERT_EQ(r.columns(), 4u);
  EXPECT_STREQ(r.column_name(0), "company_id");
  EXPECT_STREQ(r.column_name(1), "lifecycle_stage");
  EXPECT_STREQ(r.column_name(2), "customers");
  EXPECT_STREQ(r.column_name(3), "with_duplicate");
  EXPECT_EQ(r.size(), 4u);
  // The function's tenant switching is not a way in: the caller still sees no customer.
  EXPECT_EQ(w.exec1("SELECT count(*) FROM customers")[0].as<long>(), 0);
  auto privileges = w.exec1(
      "SELECT has_function_privilege('tradesphere_app', 'customer_gauges()', 'EXECUTE'), "
      "       has_function_privilege('tradesphere_app', 'app_enter_company(uuid)', 'EXECUTE'), "
      "       has_function_privilege('public', 'customer_gauges()', 'EXECUTE')");
  EXPECT_TRUE(privileges[0].as<bool>());
  EXPECT_FALSE(privileges[1].as<bool>());
  EXPECT_FALSE(privileges[2].as<bool>());
}

TEST_F(MetricsGaugesTest, ServiceCachesForItsPeriodAndRendersEveryStage) {
  BusinessGauges cached(*db, std::chrono::hours(1));
  BusinessGauges fresh(*db, std::chrono::milliseconds(0));
  EXPECT_EQ(by_key(cached.snapshot()), expected());
  EXPECT_EQ(by_key(fresh.snapshot()), expected());

  CustomerCrudService repo(*db);
  sharing_email(agent_b, "Ann Twin", "ann@example.com");
  EXPECT_EQ(by_key(cached.snapshot()), expected()) << "within its period the cache is not refreshed";
  auto now = by_key(fresh.snapshot());
  EXPECT_EQ(now[std::make_pair(company_b, std::string("prospect"))], std::make_pair(1L, 1L));
  EXPECT_EQ(now[std::make_pair(company_b, std::string("churned"))], std::make_pair(1L, 1L));

  const auto text = cached.render_prometheus();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  const std::string a = "company_id=\"" + company_a + "\"";
  EXPECT_TRUE(has("# TYPE tradesphere_customers_active gauge")) << text;
  EXPECT_TRUE(has("tradesphere_customers_active{" + a + ",lifecycle_stage=\"prospect\"} 1")) << text;
  EXPECT_TRUE(has("tradesphere_customers_active{" + a + ",lifecycle_stage=\"lead\"} 3")) << text;
  EXPECT_TRUE(has("tradesphere_customers_active{" + a + ",lifecycle_stage=\"customer\"} 1")) << text;
  EXPECT_TRUE(has("tradesphere_customers_active{" + a + ",lifecycle_stage=\"churned\"} 0")) << text;
  EXPECT_TRUE(has("tradesphere_customers_with_duplicates{" + a + "} 2")) << text;
  EXPECT_TRUE(has("tradesphere_customer_duplicate_rate{" + a + "} 0.4")) << text;
  EXPECT_TRUE(has("tradesphere_customer_duplicate_rate{company_id=\"" + company_b + "\"} 0")) << text;
}

}  // namespace

namespace {

// Open chat sync failures per company, reason and SQLSTATE (migration 0018,
// chat_sync_failure_gauges()): a paused company's new chats are stored unlinked and
// show on /metrics until the sync is resumed.
TEST_F(MetricsGaugesTest, OpenChatSyncFailuresAreServedPerReasonUntilResolved) {
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec_params("SELECT set_chat_sync_paused($1::uuid, true)", company_a);
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message, ai_response) VALUES "
            "('p-1', 'tech-a', 'paused1@example.com', 'hi', 'hello'), "
            "('p-2', 'tech-a', 'paused2@example.com', 'hi', 'hello')");
    tx.commit();
  }
  BusinessGauges fresh(*db, std::chrono::milliseconds(0));
  auto rows = fresh.failures_snapshot();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].company_id, company_a);
  EXPECT_EQ(rows[0].reason, "paused");
  EXPECT_EQ(rows[0].sqlstate, "");
  EXPECT_EQ(rows[0].failures, 2);
  const auto text = fresh.render_prometheus();
  EXPECT_NE(text.find("# TYPE tradesphere_chat_sync_failures_open gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tradesphere_chat_sync_failures_open{company_id=\"" + company_a +
                      "\",reason=\"paused\",sqlstate=\"\"} 2\n"),
            std::string::npos)
      << text;

  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec_params("SELECT set_chat_sync_paused($1::uuid, false)", company_a);
    tx.exec_params("SELECT retry_chat_sync($1::uuid, 1000)", company_a);
    tx.commit();
  }
  EXPECT_TRUE(fresh.failures_snapshot().empty()) << "resolved failures leave the gauge";
  EXPECT_EQ(fresh.render_prometheus().find("tradesphere_chat_sync_failures_open{"), std::string::npos);

  pqxx::connection app(app_url());
  pqxx::work w(app);
  auto privileges = w.exec1(
      "SELECT has_function_privilege('tradesphere_app', 'chat_sync_failure_gauges()', 'EXECUTE'), "
      "       has_function_privilege('public', 'chat_sync_failure_gauges()', 'EXECUTE')");
  EXPECT_TRUE(privileges[0].as<bool>());
  EXPECT_FALSE(privileges[1].as<bool>());
}

}  // namespace
