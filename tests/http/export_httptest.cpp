// GET /v1/customers/export end to end: CSV layout, the list's filters and sort,
// tenant isolation, roles, problems, and the transport of a streamed body
// (Transfer-Encoding: chunked, several keyset pages, keep-alive after it, HEAD,
// a failure after the head cuts the body short).
#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/connection_pool.hpp"
#include "db/database.hpp"
#include "domain/csv.hpp"
#include "http/api_services.hpp"
#include "services/customer_export_service.hpp"
#include "support/http_fixture.hpp"
#include "support/raw_connection.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
using tradesphere::testing::RawConnection;

const std::vector<std::string> kHeader = {"id",         "external_id", "name",   "email",
                                          "phone",      "address",     "lifecycle_stage",
                                          "tags",       "notes",       "source", "created_at",
                                          "updated_at", "conversation_count", "message_count", "last_contact_at"};

struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;  // column -> value

  std::vector<std::string> column(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.at(name));
    return out;
  }
};

Csv parse_csv(const std::string& text) {
  std::istringstream in(text);
  tradesphere::domain::CsvReader reader(in);
  tradesphere::domain::CsvRecord rec;
  Csv csv;
  if (!reader.next(rec)) {
    ADD_FAILURE() << "no header";
    return csv;
  }
  csv.header = rec.fields;
  while (reader.next(rec)) {
    EXPECT_TRUE(rec.error.empty()) << "line " << rec.line << ": " << rec.error;
    EXPECT_EQ(rec.fields.size(), csv.header.size()) << "line " << rec.line;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < rec.fields.size() && i < csv.header.size(); ++i) row[csv.header[i]] = rec.fields[i];
    csv.rows.push_back(std::move(row));
  }
  return csv;
}

// Page size lowered so that a few hundred customers make several pages.
constexpr int kTestPageSize = 100;

class ExportHttpTest : public HttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    tradesphere::db::PoolOptions pool;
    pool.url = o.database.app_url;
    pool.size = o.threads;
    pool.statement_timeout = statement_timeout();
    o.services = tradesphere::http::make_api_services(pool);
    o.services->exports =
        std::make_shared<tradesphere::services::CustomerExportService>(*o.services->database, kTestPageSize);
  }
  virtual std::chrono::milliseconds statement_timeout() const { return 5000ms; }

  json create(const json& body, const std::string& token = "") {
    auto r = call_json("POST", "/v1/customers", token.empty() ? admin_token() : token, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  // `n` customers of company A named "Bulk <i>" with `notes` (as the owner: fast).
  void bulk(int n, const std::string& notes = "") {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO customers (company_id, name, email, notes) "
        "SELECT $1::uuid, 'Bulk ' || g, 'bulk' || g || '@example.com', nullif($3, '') FROM generate_series(1, $2) g",
        company_a_, n, notes);
    tx.commit();
  }
  HttpResponse export_csv(const std::string& query = "", const std::string& token = "") {
    return call("GET", "/v1/customers/export" + query, token.empty() ? viewer_token() : token);
  }
};

TEST_F(ExportHttpTest, ExportsEveryActiveCustomerWithTheDocumentedColumns) {
  auto ann = create({{"name", "Lee, Ann"},
                     {"email", "ann@example.com"},
                     {"phone", "+1 415 555 0100"},
                     {"address", "1 Main St\nSpringfield"},
                     {"external_id", "crm-1"},
                     {"tags", {"VIP", "eu"}},
                     {"notes", "=HYPERLINK(\"http://evil\")"}});
  auto bob = create({{"name", "Bob \"the builder\" Stone"}});
  auto gone = create({{"name", "Deleted Dan"}});
  ASSERT_EQ(call("DELETE", "/v1/customers/" + gone["id"].get<std::string>(), admin_token()).status, 200);

  auto r = export_csv();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_TRUE(std::regex_match(r.header("Content-Disposition"),
                               std::regex(R"(attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv")")))
      << r.header("Content-Disposition");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_FALSE(r.header("X-Request-Id").empty());
  EXPECT_EQ(r.body.rfind(
                "id,external_id,name,email,phone,address,lifecycle_stage,tags,notes,source,created_at,updated_at,"
                "conversation_count,message_count,last_contact_at\r\n",
                0),
            0u)
      << r.body;

  const Csv csv = parse_csv(r.body);
  EXPECT_EQ(csv.header, kHeader);
  ASSERT_EQ(csv.rows.size(), 2u) << r.body;  // the deleted customer is not exported
  // Default sort as the list: newest first.
  EXPECT_EQ(csv.rows[0].at("id"), bob["id"]);
  const auto& a = csv.rows[1];
  EXPECT_EQ(a.at("id"), ann["id"]);
  EXPECT_EQ(a.at("external_id"), "crm-1");
  EXPECT_EQ(a.at("name"), "Lee, Ann");
  EXPECT_EQ(a.at("email"), "ann@example.com");
  EXPECT_EQ(a.at("phone"), ann["phone"].get<std::string>()) << "a phone is not a formula: no apostrophe";
  EXPECT_EQ(a.at("address"), "1 Main St\nSpringfield");
  EXPECT_EQ(a.at("lifecycle_stage"), ann["lifecycle_stage"]);
  EXPECT_EQ(a.at("tags"), "vip;eu");
  EXPECT_EQ(a.at("notes"), "'=HYPERLINK(\"http://evil\")");
  EXPECT_EQ(a.at("source"), ann["source"]);
  EXPECT_EQ(a.at("created_at"), ann["created_at"]) << "RFC 3339 as in the JSON";
  EXPECT_EQ(a.at("updated_at"), ann["updated_at"]);
  EXPECT_EQ(a.at("conversation_count"), "0");
  EXPECT_EQ(a.at("message_count"), "0");
  EXPECT_EQ(a.at("last_contact_at"), "");
  EXPECT_EQ(csv.rows[0].at("name"), "Bob \"the builder\" Stone");
  EXPECT_EQ(csv.rows[0].at("tags"), "");

  // Counted like any request, under its route template.
  const auto metrics = call("GET", "/metrics").body;
  EXPECT_NE(metrics.find(R"(tradesphere_http_requests_total{method="GET",route="/v1/customers/export",status="200"})"),
            std::string::npos);
}

TEST_F(ExportHttpTest, MetricsColumnsComeFromTheConversations) {
  auto chat = call_json("POST", "/v1/chat", agent_token(),
                        json::array({{{"session_id", "s-1"}, {"tech_id", "t"}, {"user_message", "hi"},
                                      {"ai_response", "hello"}, {"customer_email", "chatty@example.com"},
                                      {"customer_name", "Chatty"}},
                                     {{"session_id", "s-1"}, {"tech_id", "t"}, {"user_message", "again"},
                                      {"ai_response", "yes"}, {"customer_email", "chatty@example.com"}}}));
  ASSERT_EQ(chat.status, 200) << chat.body;
  const std::string id = chat.json()["customer_ids"][0];
  const auto detail = call("GET", "/v1/customers/" + id, viewer_token()).json();
  const Csv csv = parse_csv(export_csv().body);
  ASSERT_EQ(csv.rows.size(), 1u);
  EXPECT_EQ(csv.rows[0].at("conversation_count"), "1");
  EXPECT_EQ(csv.rows[0].at("message_count"), "2");
  EXPECT_EQ(csv.rows[0].at("last_contact_at"), detail["metrics"]["last_contact_at"]);
}

TEST_F(ExportHttpTest, AppliesTheListFiltersAndSortAndAgreesWithTheList) {
  create({{"name", "Cara Lead"}, {"email", "cara@example.com"}, {"tags", {"vip"}}});
  create({{"name", "Abe Lead"}, {"tags", {"vip", "eu"}}});
  create({{"name", "Dora Other"}, {"email", "dora@example.com"}});
  for (const char* name : {"Cara Lead", "Abe Lead"}) {
    auto hits = call("GET", std::string("/v1/customers?q=") + (name[0] == 'C' ? "Cara" : "Abe"), viewer_token());
    const std::string id = hits.json()["items"][0]["id"];
    ASSERT_EQ(call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", "lead"}}).status,
              200);
  }

  auto names = [&](const std::string& query) {
    auto r = export_csv(query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return parse_csv(r.body).column("name");
  };
  EXPECT_EQ(names("?lifecycle_stage=lead&sort=name"), (std::vector<std::string>{"Abe Lead", "Cara Lead"}));
  EXPECT_EQ(names("?lifecycle_stage=lead&sort=name&order=desc"), (std::vector<std::string>{"Cara Lead", "Abe Lead"}));
  EXPECT_EQ(names("?tags_all=vip,eu"), std::vector<std::string>{"Abe Lead"});
  EXPECT_EQ(names("?tags_any=eu,vip&has_email=true"), std::vector<std::string>{"Cara Lead"});
  EXPECT_EQ(names("?q=dora"), std::vector<std::string>{"Dora Other"});
  EXPECT_TRUE(names("?lifecycle_stage=churned").empty());

  // The same order as the list for the same parameters.
  for (const std::string query : {"?sort=name", "?sort=created_at&order=asc", "?has_email=false&sort=name"}) {
    auto list = call("GET", "/v1/customers" + query + "&limit=1000", viewer_token());
    ASSERT_EQ(list.status, 200) << list.body;
    std::vector<std::string> list_ids;
    const json body = list.json();
    for (const auto& item : body["items"]) list_ids.push_back(item["id"]);
    EXPECT_EQ(parse_csv(export_csv(query).body).column("id"), list_ids) << query;
  }
}

TEST_F(ExportHttpTest, BadParametersAre400ProblemsNamingThem) {
  for (const std::string query : {"?lifecycle_stage=vip", "?limit=10", "?cursor=abc", "?include_total=true",
                                  "?colour=red", "?sort=name&sort=email", "?created_from=2026-02-01&created_to=2026-01-01"}) {
    auto r = export_csv(query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json") << query;
    EXPECT_FALSE(r.json()["errors"].empty()) << query << ": " << r.body;
  }
  auto r = export_csv("?limit=10&lifecycle_stage=vip");
  std::set<std::string> fields;
  const json problem = r.json();
  for (const auto& e : problem["errors"]) fields.insert(e["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"limit", "lifecycle_stage"}));
}

TEST_F(ExportHttpTest, AForeignCompanysCustomersNeverAppear) {
  create({{"name", "Ours"}});
  create({{"name", "Theirs"}, {"email", "theirs@example.com"}}, other_admin_token());
  const Csv ours = parse_csv(export_csv().body);
  EXPECT_EQ(ours.column("name"), std::vector<std::string>{"Ours"});
  EXPECT_TRUE(parse_csv(export_csv("?q=theirs").body).rows.empty());
  const Csv theirs = parse_csv(export_csv("", other_admin_token()).body);
  EXPECT_EQ(theirs.column("name"), std::vector<std::string>{"Theirs"});
}

TEST_F(ExportHttpTest, EveryRoleMayExportAndNoTokenIs401) {
  create({{"name", "Ann"}});
  for (const auto& token : {viewer_token(), agent_token(), admin_token()}) {
    auto r = export_csv("", token);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_csv(r.body).rows.size(), 1u);
  }
  auto anonymous = call("GET", "/v1/customers/export");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(anonymous.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(anonymous.json()["type"], "urn:tradesphere:problem:unauthorized");
  EXPECT_EQ(anonymous.body.find("Ann"), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/customers/export", "not-a-token").status, 401);
}

TEST_F(ExportHttpTest, NoMatchingCustomerGivesTheHeaderAlone) {
  auto r = export_csv();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "id,external_id,name,email,phone,address,lifecycle_stage,tags,notes,source,created_at,updated_at,"
            "conversation_count,message_count,last_contact_at\r\n");
}

TEST_F(ExportHttpTest, ManyPagesAreStreamedChunkedWithEveryCustomerOnce) {
  constexpr int kCustomers = 2500;  // 25 pages of kTestPageSize
  bulk(kCustomers);
  create({{"name", "Other company"}}, other_admin_token());
  auto r = export_csv("?sort=name");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(r.header("Content-Length"), "");
  const Csv csv = parse_csv(r.body);
  ASSERT_EQ(csv.rows.size(), static_cast<std::size_t>(kCustomers));
  const auto ids = csv.column("id");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "no customer twice across pages";
  const auto names = csv.column("name");
  EXPECT_EQ(std::count(names.begin(), names.end(), "Other company"), 0);
  // The same customers in the same order as paging through the list.
  std::vector<std::string> listed;
  std::string cursor;
  do {
    auto page = call("GET", "/v1/customers?sort=name&limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor),
                     viewer_token());
    ASSERT_EQ(page.status, 200) << page.body;
    const json body = page.json();
    for (const auto& item : body["items"]) listed.push_back(item["id"]);
    cursor = body["next_cursor"].is_string() ? body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  EXPECT_EQ(ids, listed);

  // On the wire: the head says chunked and the body is many chunks, the last one empty.
  RawConnection conn(port());
  ASSERT_TRUE(conn.send("GET /v1/customers/export?sort=name HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                        viewer_token() + "\r\n\r\n"));
  auto raw = conn.read_until("\r\n0\r\n\r\n", 30s);
  ASSERT_NE(raw.data.find("\r\n0\r\n\r\n"), std::string::npos) << raw.data.substr(0, 300);
  const auto head_end = raw.data.find("\r\n\r\n");
  const std::string head = raw.data.substr(0, head_end);
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  // Walk the chunks: one per page (plus the header in the first), then the last chunk.
  std::size_t pos = head_end + 4, chunks = 0, bytes = 0;
  while (true) {
    const auto eol = raw.data.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    const std::size_t size = std::stoul(raw.data.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    ++chunks;
    bytes += size;
    pos = eol + 2 + size + 2;
  }
  EXPECT_EQ(chunks, static_cast<std::size_t>(kCustomers / kTestPageSize));
  EXPECT_EQ(bytes, r.body.size());

  // The connection stays usable (keep-alive) after a streamed body.
  ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto next = conn.read_until("\r\n\r\n", 5s);
  EXPECT_EQ(next.data.rfind("HTTP/1.1 200", 0), 0u) << next.data.substr(0, 200);
}

TEST_F(ExportHttpTest, HeadAnswersTheHeadOnly) {
  bulk(250);
  RawConnection conn(port());
  ASSERT_TRUE(conn.send("HEAD /v1/customers/export HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + viewer_token() +
                        "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto raw = conn.read_until("\"ok\"", 10s);  // the head, then straight away the next answer
  const auto first_end = raw.data.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << raw.data;
  EXPECT_EQ(raw.data.rfind("HTTP/1.1 200", 0), 0u) << raw.data;
  EXPECT_NE(raw.data.substr(0, first_end).find("text/csv"), std::string::npos);
  EXPECT_EQ(raw.data.substr(first_end + 4, 12), "HTTP/1.1 200") << raw.data.substr(first_end, 200);
  EXPECT_EQ(raw.data.find("Bulk "), std::string::npos) << "no body on HEAD";
}

// A statement timeout the test can provoke: an exclusive lock taken after the
// head has been sent stalls the next page.
class ExportFailureHttpTest : public ExportHttpTest {
 protected:
  std::chrono::milliseconds statement_timeout() const override { return 300ms; }
};

TEST_F(ExportFailureHttpTest, AFailureAfterTheHeadCutsTheBodyShortAndClosesTheConnection) {
  // ~23 MB of CSV (9 kB of notes per customer): far more than the socket
  // buffers hold, so the server is still reading pages when the lock is taken.
  bulk(2500, std::string(9000, 'n'));
  RawConnection conn(port());
  ASSERT_TRUE(conn.send("GET /v1/customers/export HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + viewer_token() +
                        "\r\n\r\n"));
  auto head = conn.read_until("\r\n\r\n", 10s);
  ASSERT_EQ(head.data.rfind("HTTP/1.1 200", 0), 0u) << head.data.substr(0, 300);

  pqxx::connection owner(owner_url());
  pqxx::work lock(owner);
  lock.exec("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
  auto rest = conn.read_until_closed(20s);
  lock.abort();
  EXPECT_TRUE(rest.closed) << "the server closes the connection";
  const std::string all = head.data + rest.data;
  EXPECT_EQ(all.find("\r\n0\r\n\r\n"), std::string::npos) << "no last chunk: the client sees an incomplete body";
  EXPECT_LT(all.size(), 25'000'000u);
}

}  // namespace
