// What the console's Customer and Import screens read and send (issue 17):
// GET /v1/customers/{id}/conversations/{session_key}/messages (one conversation's
// messages, oldest first, keyset paged, tenant-scoped) and POST /v1/customers/import
// (a CSV file with the rules and line-numbered messages of `tradesphere import`).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "common/process.hpp"
#include "http/server.hpp"
#include "support/http_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;

constexpr const char* kMissingId = "00000000-0000-4000-8000-000000000000";

class ConsoleDataHttpTest : public HttpTest {
 protected:
  std::string create(const json& body) {
    auto r = call_json("POST", "/v1/customers", admin_token(), body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["id"];
  }
  void chat(const json& rows, const std::string& token) {
    auto r = call_json("POST", "/v1/chat", token, rows);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResponse import_csv(const std::string& csv, const std::string& token, const std::string& query = "",
                          const std::string& content_type = "text/csv; charset=utf-8") {
    return call("POST", "/v1/customers/import" + query, token, csv, {}, content_type);
  }
  // `tradesphere import` on the same database (stderr and stdout together).
  tradesphere::common::ProcessResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "DATABASE_URL=" + app_url(), "DATABASE_ADMIN_URL=" + owner_url(),
                                     std::string("TRADESPHERE_JWT_SECRET=") + tradesphere::testing::kTestJwtSecret,
                                     tradesphere::testing::tradesphere_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return tradesphere::common::run_process(argv);
  }
};

json row(const std::string& session, const std::string& email, const std::string& user, const std::string& at) {
  json r = {{"tech_id", "widget"}, {"customer_email", email}, {"user_message", user},
            {"ai_response", "re: " + user}, {"created_at", at}};
  r["session_id"] = session;
  return r;
}

TEST_F(ConsoleDataHttpTest, ConversationMessagesArePagedOldestFirstAndScopedToTheCustomer) {
  const std::string ann = create({{"name", "Ann Lee"}, {"email", "ann@example.com"}});
  const std::string bob = create({{"name", "Bob Roe"}, {"email", "bob@example.com"}});
  // s-1: five messages given out of order; s-2: one; a row without session; Bob's s-3.
  json rows = json::array();
  for (int i : {3, 1, 5, 2, 4}) {
    rows.push_back(row("s-1", "ann@example.com", "message " + std::to_string(i),
                       "2026-03-01T09:0" + std::to_string(i) + ":00Z"));
  }
  rows.push_back(row("s-2", "ann@example.com", "other conversation", "2026-03-02T09:00:00Z"));
  rows.push_back(row("s-3", "bob@example.com", "bob's", "2026-03-01T09:00:00Z"));
  chat(rows, agent_token());
  // A row without a session (the legacy table has them; the API always sets one).
  {
    pqxx::connection owner(owner_url());
    pqxx::work tx(owner);
    tx.exec_params("INSERT INTO \"VC Usage\" (company_id, session_id, tech_id, customer_email, user_message, "
                   "ai_response, created_at) VALUES ($1::uuid, NULL, 'widget', 'ann@example.com', 'no session', "
                   "'re: no session', '2026-03-03T09:00:00Z')",
                   company_a_);
    tx.commit();
  }

  // Walk s-1 two at a time (viewer): oldest first, every message once, then null.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages?limit=2" +
                             (cursor.empty() ? "" : "&cursor=" + cursor),
                  viewer_token());
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    const json page = r.json();
    for (const auto& m : page["items"]) {
      seen.push_back(m["user_message"]);
      EXPECT_EQ(m["ai_response"], "re: " + m["user_message"].get<std::string>());
      EXPECT_EQ(m["session_id"], "s-1");
      EXPECT_EQ(m["customer_id"], ann);
    }
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"message 1", "message 2", "message 3", "message 4", "message 5"}));
  auto first = call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages", viewer_token()).json();
  ASSERT_EQ(first["items"].size(), 5u) << first;
  EXPECT_EQ(first["items"][0]["created_at"], "2026-03-01T09:01:00.000000Z");
  EXPECT_TRUE(first["next_cursor"].is_null());

  // A row without a session is its own conversation, keyed "row:<id>" by the conversations list.
  auto convs = call("GET", "/v1/customers/" + ann + "/conversations", viewer_token()).json()["items"];
  ASSERT_EQ(convs.size(), 3u) << convs;
  std::string row_key;
  for (const auto& c : convs) {
    if (c["session_id"].is_null()) row_key = c["session_key"];
  }
  ASSERT_EQ(row_key.rfind("row:", 0), 0u) << convs;
  auto single = call("GET", "/v1/customers/" + ann + "/conversations/" + row_key + "/messages", viewer_token());
  ASSERT_EQ(single.status, 200) << single.body;
  ASSERT_EQ(single.json()["items"].size(), 1u);
  EXPECT_EQ(single.json()["items"][0]["user_message"], "no session");

  // Not this customer's conversation, unknown ones, other companies: 404 alike.
  EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/s-3/messages", viewer_token()).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/" + bob + "/conversations/s-1/messages", viewer_token()).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/nope/messages", viewer_token()).status, 404);
  EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/row:999999/messages", viewer_token()).status, 404);
  EXPECT_EQ(call("GET", std::string("/v1/customers/") + kMissingId + "/conversations/s-1/messages", viewer_token())
                .status,
            404);
  auto foreign = call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages", other_admin_token());
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages", "").status, 401);

  // Bad paging parameters are 400, never clamped.
  for (const char* q : {"?limit=0", "?limit=201", "?limit=x", "?cursor=garbage!", "?cursor=abc", "?other=1"}) {
    EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages" + q, viewer_token()).status, 400)
        << q;
  }
  EXPECT_EQ(call("GET", "/v1/customers/" + ann + "/conversations/s-1/messages?limit=200", viewer_token()).status,
            200);
}

const std::string kCsv =
    "name,email,phone,lifecycle_stage,tier\n"
    "Ann Lee,ann@example.com,+1 415 555 0100,lead,gold\n"   // line 2: imported
    "Bob Roe,not-an-email,,prospect,\n"                     // line 3: imported, warning
    "Carl Poe,carl@example.com,,bogus,\n"                   // line 4: rejected (stage)
    ",,,,\n"                                                // line 5: rejected (no identity)
    "\"Dan \"\"Q\"\" Moe\",dan@example.com,,customer,\"multi\nline\"\n"  // line 6 (and 7)
    "Eve Low,eve@example.com\n";                            // line 8: rejected (field count)

TEST_F(ConsoleDataHttpTest, ImportAnswersCountsAndLineNumberedMessagesAsTheCliPrintsThem) {
  auto r = import_csv(kCsv, agent_token());
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.json();
  EXPECT_EQ(j["rows"], 6) << j;
  EXPECT_EQ(j["imported"], 3) << j;
  EXPECT_EQ(j["rejected"], 3) << j;
  EXPECT_EQ(j["warnings"], 1) << j;
  EXPECT_EQ(j["skipped"], 0);
  EXPECT_EQ(j["updated"], 0);
  EXPECT_EQ(j["messages_truncated"], false);
  std::vector<std::pair<int, std::string>> got;
  for (const auto& m : j["messages"]) got.emplace_back(m["line"].get<int>(), m["kind"].get<std::string>());
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{
                     {3, "warning"}, {4, "rejected"}, {5, "rejected"}, {8, "rejected"}}))
      << j;
  EXPECT_NE(j["messages"][1]["message"].get<std::string>().find("lifecycle_stage: 'bogus'"), std::string::npos) << j;
  EXPECT_NE(j["messages"][0]["message"].get<std::string>().find("invalid email"), std::string::npos) << j;
  EXPECT_NE(j["messages"][3]["message"].get<std::string>().find("expected 5 fields, got 2"), std::string::npos) << j;

  auto stored = owner_query(
      "SELECT name, email, lifecycle_stage, source, attributes::text AS attributes FROM customers ORDER BY name");
  ASSERT_EQ(stored.size(), 3u) << stored;
  EXPECT_EQ(stored[0]["name"], "Ann Lee");
  EXPECT_EQ(stored[0]["lifecycle_stage"], "lead");
  EXPECT_EQ(stored[0]["source"], "import");
  EXPECT_NE(stored[0]["attributes"].get<std::string>().find("\"tier\": \"gold\""), std::string::npos) << stored;
  EXPECT_EQ(stored[1]["name"], "Bob Roe");
  EXPECT_TRUE(stored[1]["email"].is_null());
  EXPECT_NE(stored[1]["attributes"].get<std::string>().find("\"invalid_email\": \"not-an-email\""),
            std::string::npos)
      << stored;
  EXPECT_EQ(stored[2]["name"], "Dan \"Q\" Moe");
  // Tenancy: imported into the caller's company only.
  EXPECT_TRUE(call("GET", "/v1/customers", other_admin_token()).json()["items"].empty());

  // The CLI reports the same lines with the same reasons (into the other company).
  const auto file = std::filesystem::temp_directory_path() / ("ts-import-" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream out(file, std::ios::binary);
    out << kCsv;
  }
  auto run = cli({"import", "--company", "globex", "--quiet", file.string()});
  std::filesystem::remove(file);
  EXPECT_EQ(run.exit_code, 1) << run.output;  // rows were rejected
  std::set<std::string> cli_lines;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("line ", 0) == 0) cli_lines.insert(line);
  }
  std::set<std::string> api_lines;
  for (const auto& m : j["messages"])
    api_lines.insert("line " + std::to_string(m["line"].get<int>()) + ": " + m["message"].get<std::string>());
  EXPECT_EQ(api_lines, cli_lines) << run.output;
  EXPECT_NE(run.output.find("imported 3, rejected 3, warnings 1"), std::string::npos) << run.output;
}

TEST_F(ConsoleDataHttpTest, ImportOptionsStrictAndExistingEmail) {
  auto strict = import_csv(kCsv, admin_token(), "?strict=true");
  ASSERT_EQ(strict.status, 200) << strict.body;
  EXPECT_EQ(strict.json()["imported"], 2) << strict.body;
  EXPECT_EQ(strict.json()["rejected"], 4) << strict.body;
  EXPECT_EQ(strict.json()["warnings"], 0) << strict.body;

  // Ann again: skipped, naming the customer that holds the email; with update, applied to her.
  const std::string ann = owner_query("SELECT id::text AS id FROM customers WHERE name = 'Ann Lee'")[0]["id"];
  auto skip = import_csv("name,email\nAnn L.,ANN@example.com\n", agent_token(), "?on_existing_email=skip");
  ASSERT_EQ(skip.status, 200) << skip.body;
  EXPECT_EQ(skip.json()["imported"], 0);
  EXPECT_EQ(skip.json()["skipped"], 1);
  ASSERT_EQ(skip.json()["messages"].size(), 1u);
  EXPECT_EQ(skip.json()["messages"][0]["line"], 2);
  EXPECT_EQ(skip.json()["messages"][0]["kind"], "skipped");
  EXPECT_EQ(skip.json()["messages"][0]["customer_id"], ann);
  auto update = import_csv("name,email,address\nAnn L.,ann@example.com,1 Main St\n", agent_token(),
                           "?on_existing_email=update");
  ASSERT_EQ(update.status, 200) << update.body;
  EXPECT_EQ(update.json()["updated"], 1) << update.body;
  EXPECT_EQ(call("GET", "/v1/customers/" + ann, viewer_token()).json()["address"], "1 Main St");
}

TEST_F(ConsoleDataHttpTest, ImportRefusesWhatItCannotRead) {
  const std::string before = owner_query("SELECT count(*) AS n FROM customers").dump();
  // Role: viewers may not import.
  auto viewer = import_csv(kCsv, viewer_token());
  EXPECT_EQ(viewer.status, 403) << viewer.body;
  EXPECT_EQ(import_csv(kCsv, "").status, 401);
  // Media type, empty body, parameters.
  auto json_body = import_csv(R"({"name":"x"})", agent_token(), "", "application/json");
  EXPECT_EQ(json_body.status, 415) << json_body.body;
  EXPECT_EQ(json_body.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(import_csv("", agent_token()).status, 400);
  EXPECT_EQ(import_csv(kCsv, agent_token(), "?strict=yes").status, 400);
  EXPECT_EQ(import_csv(kCsv, agent_token(), "?on_existing_email=merge").status, 400);
  EXPECT_EQ(import_csv(kCsv, agent_token(), "?limit=5").status, 400);
  // A header that cannot be read imports nothing: 422 naming the file.
  auto dup = import_csv("name,Name\nA,B\n", agent_token());
  EXPECT_EQ(dup.status, 422) << dup.body;
  EXPECT_EQ(dup.json()["errors"][0]["field"], "file") << dup.body;
  EXPECT_NE(dup.json()["errors"][0]["reason"].get<std::string>().find("appears twice"), std::string::npos);
  // Invalid UTF-8 is a line-numbered reject, not a server error.
  auto bad_utf8 = import_csv("name,email\nOk Name,ok@example.com\nBad \xff Name,bad@example.com\n", agent_token());
  ASSERT_EQ(bad_utf8.status, 200) << bad_utf8.body;
  EXPECT_EQ(bad_utf8.json()["imported"], 1);
  ASSERT_EQ(bad_utf8.json()["messages"].size(), 1u);
  EXPECT_EQ(bad_utf8.json()["messages"][0]["line"], 3);
  EXPECT_EQ(bad_utf8.json()["messages"][0]["message"], "not valid UTF-8");
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers WHERE name <> 'Ok Name'").dump(), before);
}

class ImportLimitHttpTest : public ConsoleDataHttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override { o.max_body_bytes = 4096; }
};

TEST_F(ImportLimitHttpTest, AFileOverTheBodyLimitIs413AndImportsNothing) {
  std::string csv = "name,email\n";
  for (int i = 0; csv.size() <= 4096; ++i) csv += "Person " + std::to_string(i) + ",p" + std::to_string(i) + "@example.com\n";
  auto r = import_csv(csv, agent_token());
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 0);
  EXPECT_EQ(import_csv("name\nSmall\n", agent_token()).status, 200);
}

}  // namespace
