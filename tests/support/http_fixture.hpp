// Harness of the `http` tier: a real Server on a loopback port (port 0) against
// a fresh migrated database (PgTest), two companies, and a token per role.
//
//   class MyHttpTest : public tradesphere::testing::HttpTest {};
//   TEST_F(MyHttpTest, X) {
//     auto r = call("POST", "/v1/customers", admin_token(), R"({"name":"Ann"})");
//     EXPECT_EQ(r.status, 201) << r.body;
//   }
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "domain/request_context.hpp"
#include "http/server.hpp"
#include "support/pg_fixture.hpp"

namespace tradesphere::testing {

inline constexpr const char* kTestJwtSecret = "http-tier-test-secret-0123456789abcdef";

struct HttpResponse {
  int status = 0;  // 0 = no response (connection failed)
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
  nlohmann::json json() const;                        // parsed body (null when not JSON)
};

class HttpTest : public PgTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Override to change the server options before the server starts.
  virtual void configure(http::ServerOptions&) {}

  // One request on a fresh connection. `body` is sent when engaged, with
  // `content_type`; `headers` are added as given. Thread-safe.
  HttpResponse call(const std::string& method, const std::string& path, const std::string& token = "",
                    std::optional<std::string> body = std::nullopt,
                    const std::map<std::string, std::string>& headers = {},
                    const std::string& content_type = "application/json") const;
  HttpResponse call_json(const std::string& method, const std::string& path, const std::string& token,
                         const nlohmann::json& body, const std::map<std::string, std::string>& headers = {}) const;

  // Stops the server (in-flight requests finish) and joins its thread.
  void stop_server();

  std::string token(domain::Role role, const std::string& company_id, const std::string& user = "test-user",
                    long ttl_seconds = 3600) const;
  std::string viewer_token() const { return token(domain::Role::kViewer, company_a_); }
  std::string agent_token() const { return token(domain::Role::kAgent, company_a_); }
  std::string admin_token() const { return token(domain::Role::kAdmin, company_a_); }
  std::string other_admin_token() const { return token(domain::Role::kAdmin, company_b_); }

  // Runs SQL as the schema owner (RLS does not apply to it): fixtures and checks.
  nlohmann::json owner_query(const std::string& sql) const;

  int port() const { return port_; }
  http::Server& server() { return *server_; }

  std::string company_a_;  // "acme"
  std::string company_b_;  // "globex"

 private:
  std::unique_ptr<http::Server> server_;
  std::thread runner_;
  int port_ = 0;
};

}  // namespace tradesphere::testing
