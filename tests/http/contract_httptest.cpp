// The API contract: real responses of the main operations validated against the
// schema their operation documents in the served /openapi.json (api/openapi.json),
// errors included (application/problem+json); and the document agrees with the
// server's route table (roles, parameters, operationIds, 4xx responses).
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "http/api_services.hpp"
#include "http/dispatcher.hpp"
#include "http/routes.hpp"
#include "support/http_fixture.hpp"
#include "support/json_schema.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
using tradesphere::testing::response_schema;
using tradesphere::testing::SchemaValidator;
namespace http = tradesphere::http;

constexpr const char* kMissingId = "6f1c2b9e-0d4a-4c7b-9e3f-2a1b0c9d8e7f";

class ContractHttpTest : public HttpTest {
 protected:
  void SetUp() override {
    HttpTest::SetUp();
    auto r = call("GET", "/openapi.json");
    ASSERT_EQ(r.status, 200);
    doc_ = r.json();
    ASSERT_TRUE(doc_.is_object());
  }

  // The response must be documented for (method, route, status, content type) and
  // its body must match that schema; returns the response for further checks.
  HttpResponse expect_valid(const std::string& method, const std::string& route, const HttpResponse& r) {
    ++validated_;
    std::string why;
    auto schema = response_schema(doc_, method, route, r.status, r.header("Content-Type"), why);
    if (!schema) {
      ADD_FAILURE() << why << "\n" << r.body;
      return r;
    }
    const json body = r.json();
    if (body.is_discarded()) {
      ADD_FAILURE() << method << " " << route << " " << r.status << ": not JSON: " << r.body;
      return r;
    }
    const auto errors = SchemaValidator(doc_).validate(body, *schema);
    EXPECT_TRUE(errors.empty()) << method << " " << route << " " << r.status << " breaks its schema:\n"
                                << ::testing::PrintToString(errors) << "\n"
                                << r.body;
    return r;
  }
  HttpResponse checked(const std::string& method, const std::string& route, const std::string& path,
                       const std::string& token, const std::optional<json>& body = std::nullopt,
                       const std::map<std::string, std::string>& headers = {}) {
    auto r = body ? call_json(method, path, token, *body, headers) : call(method, path, token, std::nullopt, headers);
    return expect_valid(method, route, r);
  }

  json doc_;
  int validated_ = 0;
};

TEST_F(ContractHttpTest, MainOperationsAnswerWhatTheDocumentDescribes) {
  // Create, get, list (with total), patch.
  auto created = checked("POST", "/v1/customers", "/v1/customers", agent_token(),
                         json{{"name", "Ann Lee"}, {"email", "ann@example.com"}, {"phone", "+1 415 555 0100"},
                              {"tags", {"vip"}}, {"attributes", {{"tier", "gold"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  EXPECT_EQ(checked("GET", "/v1/customers/{id}", "/v1/customers/" + id, viewer_token()).status, 200);
  auto list = checked("GET", "/v1/customers", "/v1/customers?include_total=true&sort=last_contact", viewer_token());
  EXPECT_EQ(list.json()["total"], 1) << list.body;
  auto patched = checked("PATCH", "/v1/customers/{id}", "/v1/customers/" + id, agent_token(),
                         json{{"address", "1 Main St"}}, {{"If-Match", "\"1\""}});
  EXPECT_EQ(patched.status, 200) << patched.body;

  // Chat: one row, then a batch; conversations, timeline, summary.
  json row = {{"session_id", "s-1"},        {"tech_id", "widget"},
              {"customer_email", "ann@example.com"}, {"user_message", "Hi, a quote please"},
              {"ai_response", "Sure"},      {"created_at", "2026-03-01T09:30:00Z"}};
  EXPECT_EQ(checked("POST", "/v1/chat", "/v1/chat", agent_token(), row).status, 200);
  json other = row;
  other["session_id"] = "s-2";
  other.erase("customer_email");
  other["customer_name"] = "Ann Leigh";
  other["customer_phone"] = "+1 415 555 0100";
  EXPECT_EQ(checked("POST", "/v1/chat", "/v1/chat", agent_token(), json::array({row, other})).status, 200);
  EXPECT_EQ(checked("GET", "/v1/customers/{id}/conversations", "/v1/customers/" + id + "/conversations",
                    viewer_token())
                .status,
            200);
  EXPECT_EQ(checked("GET", "/v1/customers/{id}/conversations/{session_key}/messages",
                    "/v1/customers/" + id + "/conversations/s-1/messages?limit=1", viewer_token())
                .status,
            200);
  {
    auto imported = call("POST", "/v1/customers/import", agent_token(),
                         std::string("name,email,lifecycle_stage\nZoe Import,not-an-email,lead\nBad Stage,,nope\n"), {},
                         "text/csv");
    EXPECT_EQ(expect_valid("POST", "/v1/customers/import", imported).status, 200) << imported.body;
    EXPECT_EQ(imported.json()["messages"].size(), 2u) << imported.body;
  }
  EXPECT_EQ(checked("GET", "/v1/customers/{id}/timeline", "/v1/customers/" + id + "/timeline", viewer_token()).status,
            200);
  EXPECT_EQ(checked("GET", "/v1/customers/{id}/summary", "/v1/customers/" + id + "/summary", viewer_token()).status,
            200);

  // Search, duplicates.
  auto search = checked("GET", "/v1/customers/search", "/v1/customers/search?q=ann", viewer_token());
  EXPECT_FALSE(search.json()["items"].empty()) << search.body;
  const std::string twin = checked("POST", "/v1/customers", "/v1/customers", agent_token(),
                                   json{{"name", "Ann Lee"}, {"phone", "+1 415 555 0100"}})
                               .json()["id"];
  EXPECT_EQ(checked("GET", "/v1/duplicates", "/v1/duplicates?min_score=0", viewer_token()).status, 200);
  EXPECT_EQ(checked("GET", "/v1/customers/{id}/duplicates", "/v1/customers/" + id + "/duplicates?min_score=0",
                    viewer_token())
                .status,
            200);

  // Merge, its record, undo.
  EXPECT_EQ(checked("POST", "/v1/merges/preview", "/v1/merges/preview", viewer_token(),
                    json{{"target_id", id}, {"source_ids", {twin}}})
                .status,
            200);
  auto merged = checked("POST", "/v1/merges", "/v1/merges", admin_token(), json{{"target_id", id}, {"source_ids", {twin}}});
  ASSERT_EQ(merged.status, 201) << merged.body;
  const std::string merge_id = merged.json()["merge_id"];
  EXPECT_EQ(checked("POST", "/v1/merges/{id}/undo", "/v1/merges/" + merge_id + "/undo", admin_token()).status, 200);
  EXPECT_EQ(checked("GET", "/v1/merges/{id}", "/v1/merges/" + merge_id, viewer_token()).status, 200);

  // The rest of the small ones.
  EXPECT_EQ(checked("GET", "/v1/me", "/v1/me", viewer_token()).status, 200);
  EXPECT_EQ(checked("GET", "/v1/overview", "/v1/overview", viewer_token()).status, 200);
  EXPECT_EQ(checked("PUT", "/v1/customers/{id}/stage", "/v1/customers/" + id + "/stage", agent_token(),
                    json{{"lifecycle_stage", "lead"}})
                .status,
            200);
  EXPECT_EQ(checked("GET", "/v1/conversations/orphaned", "/v1/conversations/orphaned", viewer_token()).status, 200);
  EXPECT_EQ(checked("DELETE", "/v1/customers/{id}", "/v1/customers/" + twin, admin_token()).status, 200);
  EXPECT_EQ(checked("POST", "/v1/customers/{id}/restore", "/v1/customers/" + twin + "/restore", admin_token()).status,
            200);
  EXPECT_GE(validated_, 20);
}

TEST_F(ContractHttpTest, ErrorsAreTheDocumentedProblems) {
  const std::string id = checked("POST", "/v1/customers", "/v1/customers", agent_token(),
                                 json{{"name", "Bo"}, {"email", "bo@example.com"}})
                             .json()["id"];
  struct Case {
    int status;
    HttpResponse response;
    const char* method;
    const char* route;
  };
  const std::vector<Case> cases = {
      {400, call("GET", "/v1/customers?limit=0", viewer_token()), "GET", "/v1/customers"},
      {400, call("GET", "/v1/customers/search", viewer_token()), "GET", "/v1/customers/search"},
      {401, call("GET", "/v1/customers"), "GET", "/v1/customers"},
      {401, call("GET", "/v1/me", "not-a-token"), "GET", "/v1/me"},
      {403, call_json("POST", "/v1/customers", viewer_token(), {{"name", "X"}}), "POST", "/v1/customers"},
      {404, call("GET", std::string("/v1/customers/") + kMissingId, viewer_token()), "GET", "/v1/customers/{id}"},
      {409, call_json("POST", "/v1/customers", agent_token(), {{"name", "Bo 2"}, {"email", " BO@example.com"}}), "POST",
       "/v1/customers"},
      {412, call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"name", "Stale"}}, {{"If-Match", "\"7\""}}),
       "PATCH", "/v1/customers/{id}"},
      {415, call("POST", "/v1/customers", agent_token(), std::string("name=x"), {}, "text/plain"), "POST",
       "/v1/customers"},
      {422, call_json("POST", "/v1/customers", agent_token(), {{"id", id}, {"email", "nope"}}), "POST", "/v1/customers"},
      {422, call_json("POST", "/v1/chat", agent_token(), json::array({{{"x", 1}}})), "POST", "/v1/chat"},
      // Public routes: a malformed request is a 400 there too.
      {400, call("GET", "/healthz?a=%zz"), "GET", "/healthz"},
      // The CSV export answers its errors as problems too.
      {400, call("GET", "/v1/customers/export?limit=5", viewer_token()), "GET", "/v1/customers/export"},
      {401, call("GET", "/v1/customers/export"), "GET", "/v1/customers/export"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.route + " → " + std::to_string(c.status));
    EXPECT_EQ(c.response.status, c.status) << c.response.body;
    EXPECT_EQ(c.response.header("Content-Type"), "application/problem+json");
    expect_valid(c.method, c.route, c.response);
  }
  auto conflict = cases[6].response.json();
  EXPECT_EQ(conflict["existing_customer_id"], id) << "documented in Problem";

  // A unique violation names the field, never the constraint.
  ASSERT_EQ(call_json("POST", "/v1/customers", agent_token(), {{"name", "E1"}, {"external_id", "crm-1"}}).status, 201);
  auto again = expect_valid("POST", "/v1/customers",
                            call_json("POST", "/v1/customers", agent_token(), {{"name", "E2"}, {"external_id", "crm-1"}}));
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.json()["detail"], "external_id already exists") << again.body;
  EXPECT_EQ(again.body.find("_key"), std::string::npos) << again.body;
}

// The served document is the data file, byte for byte, and it agrees with the
// route table the server dispatches on.
TEST_F(ContractHttpTest, TheDocumentIsTheDataFileAndAgreesWithTheRouteTable) {
  auto r = call("GET", "/openapi.json");
  EXPECT_EQ(r.body, std::string(http::openapi_text()));

  http::ServerOptions options;
  options.services = http::make_api_services(app_url(), 1);
  http::Dispatcher dispatcher(options);
  std::set<std::pair<std::string, std::string>> table;
  for (const auto& route : dispatcher.table().routes()) table.emplace(route.method, route.pattern);
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : server().routes()) served.insert(route);
  ASSERT_EQ(table, served) << "the same routes the server dispatches on";
  EXPECT_EQ(http::openapi_route_mismatches(dispatcher.table()), std::vector<std::string>{});

  // Every operation: operationId, a 4xx, documented Problem responses use problem+json.
  for (const auto& [path, item] : doc_["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      EXPECT_TRUE(op.contains("operationId")) << method << " " << path;
      EXPECT_TRUE(op.contains("summary")) << method << " " << path;
    }
  }
}

}  // namespace
