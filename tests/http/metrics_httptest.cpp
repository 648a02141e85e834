// GET /metrics: the request metrics, the library's registry and the business
// gauges (lifecycle stage distribution, duplicate rate; cached, see
// services/business_gauges.hpp) for a small fixture.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "db/database.hpp"
#include "http/api_services.hpp"
#include "services/business_gauges.hpp"
#include "support/http_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;

class MetricsHttpTest : public HttpTest {
 protected:
  std::string create(const json& body, const std::string& token) {
    auto r = call_json("POST", "/v1/customers", token, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  void stage(const std::string& id, const std::string& to) {
    auto r = call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", to}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // company A: 4 active (2 prospects sharing a phone, 1 lead, 1 customer) + 1 deleted
  // lead with the lead's email; company B: 1 prospect with A's shared phone.
  void fixture() {
    create({{"name", "Ann"}, {"phone", "+1 415 555 0100"}}, agent_token());
    create({{"name", "Annie"}, {"phone", "+14155550100"}}, agent_token());
    // (deleted first: an active customer's email cannot be given to another)
    const auto gone = create({{"name", "Gone"}, {"email", "lea@example.com"}}, agent_token());
    stage(gone, "lead");
    ASSERT_EQ(call("DELETE", "/v1/customers/" + gone, admin_token()).status, 200);
    stage(create({{"name", "Lea"}, {"email", "lea@example.com"}}, agent_token()), "lead");
    stage(create({{"name", "Cus"}}, agent_token()), "customer");
    create({{"name", "Other"}, {"phone", "+1 415 555 0100"}}, other_admin_token());
  }
  std::string metrics() {
    auto r = call("GET", "/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u) << r.header("Content-Type");
    return r.body;
  }
  static bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
  }
  std::string a() const { return "company_id=\"" + company_a_ + "\""; }
  std::string b() const { return "company_id=\"" + company_b_ + "\""; }
};

TEST_F(MetricsHttpTest, StageDistributionAndDuplicateRateOfEveryCompany) {
  fixture();
  const auto text = metrics();
  for (const char* family : {"tradesphere_customers_active", "tradesphere_customers_with_duplicates",
                             "tradesphere_customer_duplicate_rate"}) {
    EXPECT_TRUE(has_line(text, std::string("# TYPE ") + family + " gauge")) << family;
  }
  EXPECT_TRUE(has_line(text, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"prospect\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"lead\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"customer\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"churned\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customers_with_duplicates{" + a() + "} 2")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customer_duplicate_rate{" + a() + "} 0.5")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customers_active{" + b() + ",lifecycle_stage=\"prospect\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "tradesphere_customer_duplicate_rate{" + b() + "} 0")) << text;
  // The rest of /metrics is still there.
  EXPECT_NE(text.find("tradesphere_http_requests_total{"), std::string::npos);
  EXPECT_NE(text.find("tradesphere_db_pool_in_use"), std::string::npos);
}

// A period long enough that the test cannot outlive it: the second scrape is
// served from the cache, however fast or slow the machine.
class CachedMetricsHttpTest : public MetricsHttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    tradesphere::db::PoolOptions pool;
    pool.url = o.database.app_url;
    pool.size = o.threads;
    o.services = tradesphere::http::make_api_services(pool);
    o.services->gauges = std::make_shared<tradesphere::services::BusinessGauges>(*o.services->database,
                                                                                 std::chrono::hours(1));
  }
};

TEST_F(CachedMetricsHttpTest, GaugesAreComputedOncePerPeriod) {
  fixture();
  const auto first = metrics();
  EXPECT_TRUE(has_line(first, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"prospect\"} 2")) << first;
  create({{"name", "Late"}}, agent_token());
  const auto second = metrics();
  EXPECT_TRUE(has_line(second, "tradesphere_customers_active{" + a() + ",lifecycle_stage=\"prospect\"} 2"))
      << "served from the cache: " << second;
  EXPECT_NE(second.find("customer_gauges"), std::string::npos)
      << "the one refresh is a unit of work in tradesphere_db_transaction_duration_seconds";
}

}  // namespace
