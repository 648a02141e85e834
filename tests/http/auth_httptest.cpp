// Bearer-token authentication and role checks of the HTTP API.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <jwt.h>

#include "common/crypto.hpp"
#include "domain/cursor.hpp"
#include "http/jwt.hpp"
#include "support/http_fixture.hpp"

namespace {

using tradesphere::domain::Role;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
using tradesphere::testing::kTestJwtSecret;
namespace http = tradesphere::http;

std::string b64(const std::string& s) { return tradesphere::domain::base64url_encode(s); }

http::TokenClaims claims_for(const std::string& company, Role role, std::chrono::seconds ttl) {
  http::TokenClaims c;
  c.user_id = "u1";
  c.company_id = company;
  c.role = role;
  c.expires_at = std::chrono::system_clock::now() + ttl;
  return c;
}

// Body without the per-request instance, for "identical answer" comparisons.
nlohmann::json without_instance(const HttpResponse& r) {
  auto j = r.json();
  if (j.is_object()) j.erase("instance");
  return j;
}

// An HS256 token with exactly these claims, signed with `key` (libjwt directly).
std::string sign_claims(const nlohmann::json& claims, const std::string& key) {
  jwt_t* j = nullptr;
  EXPECT_EQ(jwt_new(&j), 0);
  EXPECT_EQ(jwt_add_grants_json(j, claims.dump().c_str()), 0);
  EXPECT_EQ(jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* out = jwt_encode_str(j);
  std::string token = out ? out : "";
  std::free(out);
  jwt_free(j);
  return token;
}

class AuthHttpTest : public HttpTest {};

TEST(Jwt, IssuedTokenVerifiesWithItsClaims) {
  auto claims = claims_for("0b7d4c1e-8f1a-4c43-9a55-3b0f5c1d2e3f", Role::kAgent, std::chrono::hours(1));
  auto token = http::issue_token("secret", claims);
  auto back = http::verify_token("secret", token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_id, "u1");
  EXPECT_EQ(back->company_id, claims.company_id);
  EXPECT_EQ(back->role, Role::kAgent);
  EXPECT_FALSE(http::verify_token("other", token));
}

TEST(Jwt, ExpiryHonoursSixtySecondsOfSkewOnly) {
  const std::string company = "0b7d4c1e-8f1a-4c43-9a55-3b0f5c1d2e3f";
  auto recently = http::issue_token("s", claims_for(company, Role::kViewer, std::chrono::seconds(-30)));
  auto long_ago = http::issue_token("s", claims_for(company, Role::kViewer, std::chrono::seconds(-90)));
  EXPECT_TRUE(http::verify_token("s", recently));
  EXPECT_FALSE(http::verify_token("s", long_ago));
}

TEST(Jwt, SecretComesFromEnvironmentOrAPrivateFileMadeOnce) {
  auto dir = std::filesystem::temp_directory_path() / ("ts-jwt-" + tradesphere::common::random_hex(4));
  unsetenv("TRADESPHERE_JWT_SECRET");
  auto first = http::load_or_create_jwt_secret(dir);
  auto second = http::load_or_create_jwt_secret(dir);
  EXPECT_EQ(first, second);
  EXPECT_GE(first.size(), 32u);
  auto perms = std::filesystem::status(dir / "secrets" / "jwt.secret").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  setenv("TRADESPHERE_JWT_SECRET", "from-env", 1);
  EXPECT_EQ(http::load_or_create_jwt_secret(dir), "from-env");
  unsetenv("TRADESPHERE_JWT_SECRET");
  std::filesystem::remove_all(dir);
}

TEST(Jwt, TtlParsesUnitsAndRejectsGarbage) {
  EXPECT_EQ(http::parse_ttl("1h").count(), 3600);
  EXPECT_EQ(http::parse_ttl("30m").count(), 1800);
  EXPECT_EQ(http::parse_ttl("45").count(), 45);
  EXPECT_EQ(http::parse_ttl("2d").count(), 172800);
  EXPECT_THROW(http::parse_ttl("1w"), std::exception);
  EXPECT_THROW(http::parse_ttl("0s"), std::exception);
  EXPECT_THROW(http::parse_ttl("-1h"), std::exception);
}

TEST_F(AuthHttpTest, ValidTokenIdentifiesCallerAndCompany) {
  auto r = call("GET", "/v1/me", agent_token());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["company_id"], company_a_);
  EXPECT_EQ(r.json()["role"], "agent");
  EXPECT_EQ(r.json()["user_id"], "test-user");
}

TEST_F(AuthHttpTest, BadTokensAllAnswerTheSame401) {
  const std::string good = admin_token();
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
                       .count();
  const std::string payload =
      b64(nlohmann::json{{"sub", "u"}, {"company_id", company_a_}, {"role", "admin"}, {"exp", exp}}.dump());

  auto no_company = http::TokenClaims{"u", "", Role::kAdmin, std::chrono::system_clock::now() + std::chrono::hours(1)};
  std::vector<std::pair<std::string, std::string>> cases = {
      {"missing", ""},
      {"garbage", "not-a-token"},
      {"two parts", "abc.def"},
      {"alg none", b64(R"({"alg":"none","typ":"JWT"})") + "." + payload + "."},
      {"alg none signed", b64(R"({"alg":"none","typ":"JWT"})") + "." + payload + "." + good.substr(good.rfind('.') + 1)},
      {"alg HS512 header", b64(R"({"alg":"HS512","typ":"JWT"})") + "." + payload + "." +
                               good.substr(good.rfind('.') + 1)},
      {"wrong key", http::issue_token("another-secret", claims_for(company_a_, Role::kAdmin, std::chrono::hours(1)))},
      {"expired", http::issue_token(kTestJwtSecret, claims_for(company_a_, Role::kAdmin, std::chrono::seconds(-120)))},
      {"tampered payload", good.substr(0, good.find('.') + 1) + payload + good.substr(good.rfind('.'))},
      {"company not a uuid", http::issue_token(kTestJwtSecret, claims_for("acme", Role::kAdmin, std::chrono::hours(1)))},
      {"empty company", http::issue_token(kTestJwtSecret, no_company)},
  };
  std::optional<nlohmann::json> reference;
  for (const auto& [name, token] : cases) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    auto r = call("GET", "/v1/me", "", std::nullopt, headers);
    EXPECT_EQ(r.status, 401) << name << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json") << name;
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer") << name;
    auto body = without_instance(r);
    if (!reference) reference = body;
    EXPECT_EQ(body, *reference) << name << " leaks a different answer";
  }
  EXPECT_EQ(call("GET", "/v1/me", "", std::nullopt, {{"Authorization", "Basic dXNlcjpwYXNz"}}).status, 401);
}

TEST_F(AuthHttpTest, TokensWithoutCompanyOrRoleAreRefused) {
  // Hand-built HS256 tokens missing a claim, signed with the right key through libjwt by
  // issuing a full token and then checking that the verifier requires each claim.
  auto full = claims_for(company_a_, Role::kAdmin, std::chrono::hours(1));
  full.company_id = "";
  EXPECT_FALSE(http::verify_token(kTestJwtSecret, http::issue_token(kTestJwtSecret, full)));
  auto no_sub = claims_for(company_a_, Role::kAdmin, std::chrono::hours(1));
  no_sub.user_id = "";
  EXPECT_FALSE(http::verify_token(kTestJwtSecret, http::issue_token(kTestJwtSecret, no_sub)));
}

TEST_F(AuthHttpTest, SignedTokensMissingAClaimAnswer401) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
                       .count();
  const nlohmann::json full = {{"sub", "u"}, {"company_id", company_a_}, {"role", "admin"}, {"exp", exp}};
  ASSERT_EQ(call("GET", "/v1/me", sign_claims(full, kTestJwtSecret)).status, 200) << "the control token works";
  for (const char* claim : {"sub", "company_id", "role", "exp"}) {
    auto claims = full;
    claims.erase(claim);
    EXPECT_EQ(call("GET", "/v1/me", sign_claims(claims, kTestJwtSecret)).status, 401) << "without " << claim;
  }
  auto bad_role = full;
  bad_role["role"] = "superuser";
  EXPECT_EQ(call("GET", "/v1/me", sign_claims(bad_role, kTestJwtSecret)).status, 401);
  auto numeric_company = full;
  numeric_company["company_id"] = 42;
  EXPECT_EQ(call("GET", "/v1/me", sign_claims(numeric_company, kTestJwtSecret)).status, 401);
}

TEST_F(AuthHttpTest, ExpiredWithinSkewIsStillAccepted) {
  auto t = http::issue_token(kTestJwtSecret, claims_for(company_a_, Role::kViewer, std::chrono::seconds(-20)));
  EXPECT_EQ(call("GET", "/v1/me", t).status, 200);
}

TEST_F(AuthHttpTest, CorrelationIdIsEchoedWhenValidAndReplacedOtherwise) {
  auto given = call("GET", "/v1/me", viewer_token(), std::nullopt, {{"X-Request-Id", "req-123.abc"}});
  EXPECT_EQ(given.header("X-Request-Id"), "req-123.abc");

  auto bad = call("GET", "/v1/me", "", std::nullopt, {{"X-Request-Id", "evil value<script>"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.header("X-Request-Id"), "evil value<script>");
  EXPECT_FALSE(bad.header("X-Request-Id").empty());
  EXPECT_EQ(bad.json()["instance"], bad.header("X-Request-Id"));
  EXPECT_EQ(bad.body.find("script"), std::string::npos);

  auto none = call("GET", "/healthz");
  EXPECT_FALSE(none.header("X-Request-Id").empty());
}

}  // namespace
