// GET /v1/overview (the console's Overview, issue 17): the figures of a small
// fixture, exactly; another company's customers, pairs, chats and failures never
// count; every role may read it, nobody unauthenticated.
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/http_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpTest;

class OverviewHttpTest : public HttpTest {
 protected:
  std::string create(const json& body, const std::string& token) {
    auto r = call_json("POST", "/v1/customers", token, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json().value("id", "");
  }
  void chat(const json& rows, const std::string& token) {
    auto r = call_json("POST", "/v1/chat", token, rows);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static json row(const std::string& session, const json& extra = json::object()) {
    json r = {{"session_id", session}, {"tech_id", "widget-1"}, {"user_message", "Hello"}, {"ai_response", "Hi"}};
    r.update(extra);
    return r;
  }
  json overview(const std::string& token) {
    auto r = call("GET", "/v1/overview", token);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    return r.json();
  }
  void pause_sync(const std::string& company) {
    owner_query("SELECT set_chat_sync_paused('" + company + "', true)");
  }
  // A chat row without session id (the API requires one; legacy writers do not):
  // linked by the database like any other, a conversation of its own.
  void legacy_row_without_session(const std::string& company, const std::string& email) {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO \"VC Usage\" (company_id, tech_id, customer_email, user_message) "
        "VALUES ($1, 'legacy-widget', $2, 'a legacy row')",
        company, email);
    tx.commit();
  }

  // Company A (acme): 3 active customers in 2 stages (two prospects that are a
  // duplicate pair, one lead), one customer deleted after chatting today; chat rows:
  // the lead's conversation started yesterday and continued today, one started
  // today, one row without session, a deleted customer's session, an orphan without
  // contact details, a row stored while the sync was paused (an open failure).
  // Company B (globex): its own pair, customers, chats and paused failure, which
  // must never show in A's figures.
  void fixture() {
    create({{"name", "Jonathan Smith"}, {"phone", "+1 415 555 0100"}}, agent_token());
    create({{"name", "Jonathon Smith"}, {"phone", "+1 415 555 0100"}}, agent_token());
    const auto lea = create({{"name", "Lea"}, {"email", "lea@example.com"}}, agent_token());
    ASSERT_EQ(call_json("PUT", "/v1/customers/" + lea + "/stage", agent_token(), {{"lifecycle_stage", "lead"}}).status,
              200);
    const auto gone = create({{"name", "Gone"}, {"email", "gone@example.com"}, {"lifecycle_stage", "churned"}},
                             agent_token());
    chat(json::array({row("s-old", {{"customer_email", "lea@example.com"}, {"created_at", "2020-01-01T09:00:00Z"}}),
                      row("s-old", {{"customer_email", "lea@example.com"}}),
                      row("s-new", {{"customer_email", "lea@example.com"}}),
                      row("s-new", {{"customer_email", "lea@example.com"}}),
                      row("s-gone", {{"customer_email", "gone@example.com"}}),
                      row("s-orphan")}),  // no contact details: stored without a customer, no failure
         agent_token());
    legacy_row_without_session(company_a_, "lea@example.com");
    ASSERT_EQ(call("DELETE", "/v1/customers/" + gone, admin_token()).status, 200);

    create({{"name", "Jonathan Smith"}, {"phone", "+1 415 555 0100"}}, other_admin_token());
    create({{"name", "Jonathon Smith"}, {"phone", "+1 415 555 0100"}}, other_admin_token());
    create({{"name", "Bea"}, {"email", "bea@example.com"}, {"lifecycle_stage", "customer"}}, other_admin_token());
    chat(json::array({row("b-1", {{"customer_email", "bea@example.com"}}), row("b-2")}), other_admin_token());

    // scores the queued customers: the pairs exist from here on (one per company)
    ASSERT_EQ(call("GET", "/v1/duplicates", viewer_token()).json()["total_groups"], 1);
    ASSERT_EQ(call("GET", "/v1/duplicates", other_admin_token()).json()["total_groups"], 1);

    pause_sync(company_a_);
    pause_sync(company_b_);
    chat(row("s-paused", {{"customer_email", "new@example.com"}}), agent_token());
    chat(json::array({row("b-paused", {{"customer_email", "x@example.com"}}),
                      row("b-paused", {{"customer_email", "x@example.com"}})}),
         other_admin_token());
  }
};

TEST_F(OverviewHttpTest, CountsTheCompanysCustomersPairsChatsAndFailures) {
  fixture();
  const auto o = overview(viewer_token());

  EXPECT_EQ(o["customers"], json::parse(R"({"total":3,"by_stage":{"prospect":2,"lead":1,"customer":0,"churned":0}})"))
      << o.dump(2);

  EXPECT_EQ(o["duplicates"]["open_pairs"], 1) << o.dump(2);
  EXPECT_EQ(o["duplicates"]["customers_in_pairs"], 2);
  EXPECT_NEAR(o["duplicates"]["rate"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(o["duplicates"]["min_score"], 0.6);
  EXPECT_EQ(o["duplicates"]["groups"], 1) << "grouped by GET /v1/duplicates for the current pairs";

  // today: s-old (1 row today, started in 2020), s-new (2), the row without session,
  // s-gone (its customer deleted since), s-orphan, s-paused
  EXPECT_EQ(o["conversations"], json::parse(R"({"messages_today":7,"active_today":6,"started_today":5})"))
      << o.dump(2);

  EXPECT_EQ(o["chat_sync_failures"], json::parse(R"({"open":1,"by_reason":{"error":0,"paused":1,"metrics":0}})"))
      << o.dump(2);
  EXPECT_EQ(o["orphaned_chat_rows"], 2) << "s-orphan and s-paused";

  // "today" is the UTC day of as_of
  const std::string as_of = o["as_of"], day_start = o["day_start"];
  EXPECT_EQ(day_start.substr(0, 10), as_of.substr(0, 10)) << o.dump(2);
  EXPECT_EQ(day_start.substr(10), "T00:00:00.000000Z");

  // Company B sees only its own figures.
  const auto b = overview(other_admin_token());
  EXPECT_EQ(b["customers"], json::parse(R"({"total":3,"by_stage":{"prospect":2,"lead":0,"customer":1,"churned":0}})"))
      << b.dump(2);
  EXPECT_EQ(b["duplicates"]["open_pairs"], 1);
  EXPECT_EQ(b["duplicates"]["customers_in_pairs"], 2);
  EXPECT_EQ(b["conversations"], json::parse(R"({"messages_today":4,"active_today":3,"started_today":3})"))
      << b.dump(2);
  EXPECT_EQ(b["chat_sync_failures"], json::parse(R"({"open":2,"by_reason":{"error":0,"paused":2,"metrics":0}})"));
  EXPECT_EQ(b["orphaned_chat_rows"], 3);
}

TEST_F(OverviewHttpTest, FollowsDismissalsDeletionsAndTheGroupCache) {
  fixture();
  const auto ids = call("GET", "/v1/duplicates", viewer_token()).json()["items"][0]["customers"];
  ASSERT_EQ(ids.size(), 2u);
  const std::string a = ids[0]["id"], b = ids[1]["id"];
  ASSERT_EQ(call_json("POST", "/v1/duplicates/dismiss", agent_token(), {{"customer_ids", {a, b}}}).status, 200);

  auto o = overview(viewer_token());
  EXPECT_EQ(o["duplicates"]["open_pairs"], 0) << o.dump(2);
  EXPECT_EQ(o["duplicates"]["customers_in_pairs"], 0);
  EXPECT_EQ(o["duplicates"]["rate"], 0.0);
  EXPECT_TRUE(o["duplicates"]["groups"].is_null()) << "the pairs changed since they were grouped: " << o.dump(2);
  ASSERT_EQ(call("GET", "/v1/duplicates", viewer_token()).json()["total_groups"], 0);
  EXPECT_EQ(overview(viewer_token())["duplicates"]["groups"], 0);

  ASSERT_EQ(call("DELETE", "/v1/customers/" + a, admin_token()).status, 200);
  o = overview(viewer_token());
  EXPECT_EQ(o["customers"]["total"], 2) << o.dump(2);
  EXPECT_EQ(o["customers"]["by_stage"]["prospect"], 1);
  EXPECT_EQ(o["conversations"]["messages_today"], 7) << "rows stay counted whatever became of their customer";
  EXPECT_EQ(overview(other_admin_token())["duplicates"]["open_pairs"], 1) << "B's pair is B's";
}

TEST_F(OverviewHttpTest, AnEmptyCompanyHasZeros) {
  const auto o = overview(viewer_token());
  EXPECT_EQ(o["customers"]["total"], 0) << o.dump(2);
  EXPECT_EQ(o["duplicates"]["rate"], 0.0);
  EXPECT_EQ(o["conversations"]["messages_today"], 0);
  EXPECT_EQ(o["chat_sync_failures"]["open"], 0);
  EXPECT_EQ(o["orphaned_chat_rows"], 0);
}

TEST_F(OverviewHttpTest, EveryRoleReadsItNobodyElse) {
  EXPECT_EQ(call("GET", "/v1/overview", viewer_token()).status, 200);
  EXPECT_EQ(call("GET", "/v1/overview", agent_token()).status, 200);
  EXPECT_EQ(call("GET", "/v1/overview", admin_token()).status, 200);
  auto anonymous = call("GET", "/v1/overview");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(call("GET", "/v1/overview?day=2026-01-01", viewer_token()).status, 400) << "no parameters";
  EXPECT_EQ(call("POST", "/v1/overview", admin_token(), "{}").status, 405);
}

}  // namespace
