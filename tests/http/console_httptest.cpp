// The operator console on a real server: embedded assets with their security and
// cache headers, console-link sign-in codes (single use, expiry), the session
// cookie on /v1 (Origin check on writes, sign-out revokes), bearer tokens unchanged,
// and GET /v1/merges (the merge history).
#include <chrono>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "common/process.hpp"
#include "services/console_session_service.hpp"
#include "db/database.hpp"
#include "http/console_session.hpp"
#include "support/http_fixture.hpp"

namespace {

using tradesphere::domain::Role;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
namespace db = tradesphere::db;
namespace http = tradesphere::http;
namespace services = tradesphere::services;

constexpr const char* kHost = "console.test:8080";
constexpr const char* kOrigin = "http://console.test:8080";
constexpr const char* kCsp =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

class ConsoleHttpTest : public HttpTest {
 protected:
  // A sign-in code for `user` of `company` (what `tradesphere console-link` stores).
  std::string new_code(Role role, const std::string& company, const std::string& user = "operator-1") {
    db::PoolOptions pool;
    pool.url = app_url();
    pool.size = 1;
    db::Database database(pool);
    tradesphere::domain::RequestContext ctx{company, "cli", Role::kAdmin, "test"};
    const auto code = http::new_sign_in_code();
    services::ConsoleSessionService(database).create_sign_in_code(ctx, http::sign_in_code_hash(code), user, role,
                                                                  http::kSignInCodeLifetime);
    return code;
  }

  HttpResponse redeem(const std::string& code, std::map<std::string, std::string> headers = {}) const {
    headers.emplace("Host", kHost);
    headers.emplace("Origin", kOrigin);
    return call("POST", "/console/login", "", nlohmann::json{{"code", code}}.dump(), headers);
  }

  // The cookie value set by a successful sign-in ("" when none).
  static std::string cookie_of(const HttpResponse& r) {
    std::smatch m;
    const auto set_cookie = r.header("Set-Cookie");
    if (std::regex_search(set_cookie, m, std::regex("ts_console=([^;]*)"))) return m[1];
    return "";
  }

  std::string sign_in(Role role, const std::string& user = "operator-1") {
    auto r = redeem(new_code(role, company_a_, user));
    EXPECT_EQ(r.status, 200) << r.body;
    return cookie_of(r);
  }

  // A request authenticated by the cookie only; `origin` empty = no Origin header.
  HttpResponse with_cookie(const std::string& method, const std::string& path, const std::string& cookie,
                           std::optional<std::string> body = std::nullopt, const std::string& origin = kOrigin,
                           std::map<std::string, std::string> headers = {}) const {
    headers.emplace("Host", kHost);
    headers.emplace("Cookie", "theme=dark; ts_console=" + cookie);
    if (!origin.empty()) headers.emplace("Origin", origin);
    return call(method, path, "", std::move(body), headers);
  }

  void owner_exec(const std::string& sql) const {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    tx.exec(sql);
    tx.commit();
  }

  static void expect_security_headers(const HttpResponse& r) {
    EXPECT_EQ(r.header("Content-Security-Policy"), kCsp);
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer");
  }
};

TEST_F(ConsoleHttpTest, AssetsAreServedWithTypesSecurityHeadersAndRevalidation) {
  auto index = call("GET", "/console/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("Cache-Control"), "no-cache");
  expect_security_headers(index);
  const auto etag = index.header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_NE(index.body.find(R"(<script type="module" src="/console/js/app.js">)"), std::string::npos);

  // No inline script or style anywhere (the CSP would block them).
  for (const char* page : {"/console/", "/console/login"}) {
    auto r = call("GET", page);
    ASSERT_EQ(r.status, 200) << page;
    EXPECT_FALSE(std::regex_search(r.body, std::regex("<script(?![^>]*\\bsrc=)[^>]*>"))) << page;
    EXPECT_EQ(r.body.find("style="), std::string::npos) << page;
    EXPECT_EQ(r.body.find("<style"), std::string::npos) << page;
    EXPECT_EQ(r.body.find("http://"), std::string::npos) << page << ": nothing from elsewhere";
    EXPECT_EQ(r.body.find("https://"), std::string::npos) << page << ": nothing from elsewhere";
  }

  auto js = call("GET", "/console/js/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  expect_security_headers(js);
  EXPECT_EQ(call("GET", "/console/css/console.css").header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(call("GET", "/console/favicon.svg").header("Content-Type"), "image/svg+xml");

  auto again = call("GET", "/console/", "", std::nullopt, {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("ETag"), etag);
  expect_security_headers(again);
  auto weak = call("GET", "/console/", "", std::nullopt, {{"If-None-Match", "\"other\", W/" + etag}});
  EXPECT_EQ(weak.status, 304);
  auto stale = call("GET", "/console/", "", std::nullopt, {{"If-None-Match", "\"other\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, index.body);
  EXPECT_NE(call("GET", "/console/js/app.js").header("ETag"), etag) << "one ETag per file";

  auto missing = call("GET", "/console/js/nope.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/problem+json");
  expect_security_headers(missing);
  EXPECT_EQ(call("GET", "/console/../migrations/0001_legacy_baseline.up.sql").status, 404);

  auto root = call("GET", "/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.header("Location"), "/console/");
  EXPECT_EQ(call("DELETE", "/console/").status, 405);
}

TEST_F(ConsoleHttpTest, ASignInCodeWorksOnceAndGivesAHardenedCookie) {
  const auto code = new_code(Role::kAgent, company_a_, "dana");
  auto stored = owner_query("SELECT code_hash, user_id, role, used_at FROM console_sign_in_codes");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(stored[0]["code_hash"], code) << "only the hash is stored";
  EXPECT_EQ(stored[0]["code_hash"], http::sign_in_code_hash(code));

  auto first = redeem(code);
  ASSERT_EQ(first.status, 200) << first.body;
  expect_security_headers(first);
  EXPECT_EQ(first.json()["user_id"], "dana");
  EXPECT_EQ(first.json()["role"], "agent");
  const auto set_cookie = first.header("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Path=/"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "plain HTTP: " << set_cookie;
  EXPECT_FALSE(cookie_of(first).empty());
  EXPECT_EQ(first.body.find(cookie_of(first)), std::string::npos) << "the credential is only in the cookie";

  auto second = redeem(code);
  EXPECT_EQ(second.status, 403) << second.body;
  EXPECT_EQ(second.header("Content-Type"), "application/problem+json");
  EXPECT_TRUE(second.header("Set-Cookie").empty());
  EXPECT_EQ(redeem(std::string(64, 'a')).status, 403);
  EXPECT_EQ(redeem("not-a-code").status, 403);

  // Behind a TLS proxy the cookie is Secure (and the origin is https).
  auto tls = redeem(new_code(Role::kViewer, company_a_),
                    {{"X-Forwarded-Proto", "https"}, {"Origin", "https://console.test:8080"}});
  ASSERT_EQ(tls.status, 200) << tls.body;
  EXPECT_NE(tls.header("Set-Cookie").find("; Secure"), std::string::npos);
}

TEST_F(ConsoleHttpTest, AnExpiredOrForeignOriginCodeIsRefusedAndNotConsumed) {
  const auto code = new_code(Role::kAdmin, company_a_);
  EXPECT_EQ(redeem(code, {{"Origin", "http://evil.example"}}).status, 403);
  EXPECT_EQ(owner_query("SELECT 1 FROM console_sign_in_codes WHERE used_at IS NOT NULL").size(), 0u)
      << "a refused attempt does not burn the code";
  owner_exec("UPDATE console_sign_in_codes SET created_at = now() - interval '11 minutes', "
             "expires_at = now() - interval '1 minute'");
  EXPECT_EQ(redeem(code).status, 403);
  EXPECT_EQ(owner_query("SELECT 1 FROM console_sessions").size(), 0u);

  // Codes expire 10 minutes after they are made.
  new_code(Role::kAdmin, company_a_);
  auto lifetime = owner_query(
      "SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM console_sign_in_codes WHERE used_at IS NULL "
      "AND expires_at > now()");
  ASSERT_EQ(lifetime.size(), 1u);
  EXPECT_EQ(lifetime[0]["s"], 600);
}

TEST_F(ConsoleHttpTest, TheCookieAuthenticatesTheApiWithTheSessionsRole) {
  const auto agent = sign_in(Role::kAgent, "erin");
  auto me = with_cookie("GET", "/v1/me", agent);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["user_id"], "erin");
  EXPECT_EQ(me.json()["role"], "agent");
  EXPECT_EQ(me.json()["company_id"], company_a_);

  auto created = with_cookie("POST", "/v1/customers", agent, R"({"name":"Cookie Customer"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto rows = owner_query("SELECT created_by FROM customers WHERE name = 'Cookie Customer'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["created_by"], "erin");
  EXPECT_EQ(with_cookie("DELETE", "/v1/customers/" + created.json()["id"].get<std::string>(), agent).status, 403)
      << "agents may not delete";

  const auto viewer = sign_in(Role::kViewer, "fay");
  EXPECT_EQ(with_cookie("GET", "/v1/customers", viewer).status, 200);
  EXPECT_EQ(with_cookie("POST", "/v1/customers", viewer, R"({"name":"Nope"})").status, 403);

  EXPECT_EQ(with_cookie("GET", "/v1/me", "garbage").status, 401);
  EXPECT_EQ(with_cookie("GET", "/v1/me", agent.substr(0, agent.size() - 2) + "xx").status, 401);
}

TEST_F(ConsoleHttpTest, ACookieRequestThatChangesStateNeedsOurOwnOrigin) {
  const auto admin = sign_in(Role::kAdmin);
  for (const std::string origin : {"http://evil.example", "null", "https://console.test:8080", ""}) {
    SCOPED_TRACE(origin);
    auto r = with_cookie("POST", "/v1/customers", admin, R"({"name":"Forged"})", origin);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(r.json()["type"], "urn:tradesphere:problem:forbidden");
  }
  EXPECT_EQ(owner_query("SELECT 1 FROM customers WHERE name = 'Forged'").size(), 0u);
  EXPECT_EQ(with_cookie("GET", "/v1/customers", admin, std::nullopt, "http://evil.example").status, 200)
      << "reads are not state-changing (and no CORS header lets a foreign page read them)";
  EXPECT_TRUE(with_cookie("GET", "/v1/customers", admin, std::nullopt, "http://evil.example")
                  .header("Access-Control-Allow-Origin")
                  .empty());
  EXPECT_EQ(with_cookie("POST", "/v1/customers", admin, R"({"name":"Mine"})").status, 201);
  // A bearer request is not subject to the Origin rule (no ambient credential).
  EXPECT_EQ(call("POST", "/v1/customers", admin_token(), R"({"name":"Bearer"})", {{"Origin", "http://evil.example"}})
                .status,
            201);
}

TEST_F(ConsoleHttpTest, SignOutRevokesTheSessionAtOnce) {
  const auto cookie = sign_in(Role::kAgent);
  ASSERT_EQ(with_cookie("GET", "/v1/me", cookie).status, 200);
  EXPECT_EQ(with_cookie("POST", "/console/logout", cookie, std::nullopt, "http://evil.example").status, 403);
  ASSERT_EQ(with_cookie("GET", "/v1/me", cookie).status, 200) << "a forged sign-out changes nothing";

  auto out = with_cookie("POST", "/console/logout", cookie);
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  auto after = with_cookie("GET", "/v1/me", cookie);
  EXPECT_EQ(after.status, 401) << "the same cookie no longer works";
  EXPECT_EQ(owner_query("SELECT 1 FROM console_sessions WHERE revoked_at IS NOT NULL").size(), 1u);
  EXPECT_EQ(call("GET", "/console/logout").status, 405);
}

TEST_F(ConsoleHttpTest, BearerTokensWorkUnchangedAndASessionTokenIsNoBearer) {
  auto me = call("GET", "/v1/me", admin_token());
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["role"], "admin");
  const auto cookie = sign_in(Role::kAdmin);
  EXPECT_EQ(call("GET", "/v1/me", cookie).status, 401) << "the cookie's token is only accepted as the cookie";
  EXPECT_EQ(call("GET", "/v1/me").status, 401);
  // With both, the Authorization header decides.
  auto both = call("GET", "/v1/me", token(Role::kViewer, company_a_, "vic"),
                   std::nullopt, {{"Cookie", "ts_console=" + cookie}});
  EXPECT_EQ(both.json()["user_id"], "vic");
}

TEST_F(ConsoleHttpTest, ConsoleLinkPrintsAOneTimeUrl) {
  auto r = tradesphere::common::run_process(
      {"env", "DATABASE_URL=" + app_url(), "DATABASE_ADMIN_URL=" + owner_url(),
       std::string("TRADESPHERE_JWT_SECRET=") + tradesphere::testing::kTestJwtSecret,
       "TRADESPHERE_CONSOLE_URL=http://console.test:8080/", tradesphere::testing::tradesphere_binary(),
       "console-link", "--company", "globex", "--user", "gus", "--role", "viewer"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("http://console\\.test:8080/console/login\\?code=([0-9a-f]{64})")))
      << r.output;
  auto in = redeem(m[1]);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(in.json()["company_id"], company_b_);
  EXPECT_EQ(in.json()["role"], "viewer");
  EXPECT_EQ(redeem(m[1]).status, 403);
}

TEST_F(ConsoleHttpTest, MergeHistoryListsMergesNewestFirstWithTheirStatus) {
  std::vector<std::string> ids;
  for (const char* name : {"Ann One", "Ann Two", "Bob One", "Bob Two"}) {
    auto c = call_json("POST", "/v1/customers", admin_token(), {{"name", name}});
    ASSERT_EQ(c.status, 201) << c.body;
    ids.push_back(c.json()["id"]);
  }
  auto m1 = call_json("POST", "/v1/merges", admin_token(), {{"target_id", ids[0]}, {"source_ids", {ids[1]}}});
  ASSERT_EQ(m1.status, 201) << m1.body;
  auto m2 = call_json("POST", "/v1/merges", admin_token(), {{"target_id", ids[2]}, {"source_ids", {ids[3]}}});
  ASSERT_EQ(m2.status, 201) << m2.body;
  ASSERT_EQ(call("POST", "/v1/merges/" + m1.json()["merge_id"].get<std::string>() + "/undo", admin_token()).status, 200);

  auto page1 = call("GET", "/v1/merges?limit=1", viewer_token());
  ASSERT_EQ(page1.status, 200) << page1.body;
  ASSERT_EQ(page1.json()["items"].size(), 1u);
  EXPECT_EQ(page1.json()["items"][0]["merge_id"], m2.json()["merge_id"]);
  EXPECT_EQ(page1.json()["items"][0]["status"], "applied");
  EXPECT_EQ(page1.json()["items"][0]["source_ids"], nlohmann::json::array({ids[3]}));
  ASSERT_TRUE(page1.json()["next_cursor"].is_string());
  auto page2 = call("GET", "/v1/merges?limit=1&cursor=" + page1.json()["next_cursor"].get<std::string>(),
                    viewer_token());
  ASSERT_EQ(page2.status, 200) << page2.body;
  ASSERT_EQ(page2.json()["items"].size(), 1u);
  EXPECT_EQ(page2.json()["items"][0]["merge_id"], m1.json()["merge_id"]);
  EXPECT_EQ(page2.json()["items"][0]["status"], "undone");
  EXPECT_TRUE(page2.json()["next_cursor"].is_null());

  EXPECT_EQ(call("GET", "/v1/merges", other_admin_token()).json()["items"].size(), 0u) << "per company";
  EXPECT_EQ(call("GET", "/v1/merges?cursor=bad!", viewer_token()).status, 400);
  EXPECT_EQ(call("GET", "/v1/merges?cursor=abc", viewer_token()).status, 400);
  EXPECT_EQ(call("GET", "/v1/merges?limit=0", viewer_token()).status, 400);
}

}  // namespace
