#include "support/http_fixture.hpp"

#include <algorithm>
#include <chrono>

#include <httplib.h>
#include <pqxx/pqxx>

#include "http/jwt.hpp"

namespace tradesphere::testing {

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return "";
}

nlohmann::json HttpResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

void HttpTest::SetUp() {
  PgTest::SetUp();
  {
    pqxx::connection conn(owner_url());
    pqxx::work tx(conn);
    company_a_ = tx.exec1("INSERT INTO companies (slug, name) VALUES ('acme', 'Acme') RETURNING id::text")[0]
                     .as<std::string>();
    company_b_ = tx.exec1("INSERT INTO companies (slug, name) VALUES ('globex', 'Globex') RETURNING id::text")[0]
                     .as<std::string>();
    tx.commit();
  }
  http::ServerOptions options;
  options.port = 0;
  options.threads = 16;
  options.database = {app_url(), owner_url(), false};
  options.jwt_secret = kTestJwtSecret;
  configure(options);
  server_ = std::make_unique<http::Server>(options);
  port_ = server_->bind();
  runner_ = std::thread([this] { server_->run(); });
}

void HttpTest::stop_server() {
  if (server_) server_->stop();
  if (runner_.joinable()) runner_.join();
}

void HttpTest::TearDown() {
  stop_server();
  server_.reset();
  PgTest::TearDown();
}

HttpResponse HttpTest::call(const std::string& method, const std::string& path, const std::string& token,
                            std::optional<std::string> body, const std::map<std::string, std::string>& headers,
                            const std::string& content_type) const {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(60, 0);
  client.set_write_timeout(60, 0);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  for (const auto& [k, v] : headers) h.emplace(k, v);
  httplib::Result r{nullptr, httplib::Error::Unknown};
  const std::string b = body.value_or("");
  const bool has_body = body.has_value();
  if (method == "GET") {
    r = client.Get(path, h);
  } else if (method == "POST") {
    r = has_body ? client.Post(path, h, b, content_type) : client.Post(path, h, "", 0, "");
  } else if (method == "PUT") {
    r = has_body ? client.Put(path, h, b, content_type) : client.Put(path, h, "", 0, "");
  } else if (method == "PATCH") {
    r = has_body ? client.Patch(path, h, b, content_type) : client.Patch(path, h, "", 0, "");
  } else if (method == "DELETE") {
    r = has_body ? client.Delete(path, h, b, content_type) : client.Delete(path, h);
  } else if (method == "OPTIONS") {
    r = client.Options(path, h);
  } else {
    ADD_FAILURE() << "unsupported method " << method;
    return {};
  }
  HttpResponse out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [k, v] : r->headers) out.headers.emplace(k, v);
  return out;
}

HttpResponse HttpTest::call_json(const std::string& method, const std::string& path, const std::string& token,
                                 const nlohmann::json& body, const std::map<std::string, std::string>& headers) const {
  return call(method, path, token, body.dump(), headers);
}

std::string HttpTest::token(domain::Role role, const std::string& company_id, const std::string& user,
                            long ttl_seconds) const {
  http::TokenClaims claims;
  claims.user_id = user;
  claims.company_id = company_id;
  claims.role = role;
  claims.expires_at = std::chrono::system_clock::now() + std::chrono::seconds(ttl_seconds);
  return http::issue_token(kTestJwtSecret, claims);
}

nlohmann::json HttpTest::owner_query(const std::string& sql) const {
  pqxx::connection conn(owner_url());
  pqxx::work tx(conn);
  auto r = tx.exec("SELECT coalesce(json_agg(q), '[]'::json)::text FROM (" + sql + ") q");
  tx.commit();
  return nlohmann::json::parse(r[0][0].as<std::string>());
}

}  // namespace tradesphere::testing
