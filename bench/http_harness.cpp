// The in-process HTTP server and its keep-alive client (see bench_common.hpp).
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

#include <httplib.h>

#include "bench_common.hpp"
#include "common/allocator.hpp"
#include "db/database_config.hpp"
#include "domain/request_context.hpp"
#include "http/jwt.hpp"
#include "http/server.hpp"

namespace tradesphere::bench {

struct HttpHarness::Impl {
  std::unique_ptr<http::Server> server;
  std::thread thread;
  int port = 0;
  std::string token;
  std::unique_ptr<httplib::Client> client;
};

HttpHarness::HttpHarness(const ScaleDb& s, const std::string& company_id) : impl_(std::make_unique<Impl>()) {
  common::keep_freed_memory_for_reuse();  // as `tradesphere serve` does (common/allocator.hpp)
  http::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.database = db::DatabaseTarget{s.app_url, s.owner_url, false};
  o.threads = 2;
  o.jwt_secret = "bench-only-secret-" + std::to_string(::getpid());
  impl_->server = std::make_unique<http::Server>(o);
  impl_->port = impl_->server->bind();
  impl_->thread = std::thread([this] { impl_->server->run(); });
  impl_->token = http::issue_token(o.jwt_secret, http::TokenClaims{"bench", company_id, domain::Role::kAdmin,
                                                                   std::chrono::system_clock::now() + std::chrono::hours(2)});
  impl_->client = std::make_unique<httplib::Client>("127.0.0.1", impl_->port);
  impl_->client->set_keep_alive(true);
  impl_->client->set_tcp_nodelay(true);
  impl_->client->set_read_timeout(600, 0);
}

HttpHarness::~HttpHarness() {
  impl_->client.reset();
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

long long HttpHarness::get_items(const std::string& path) {
  auto res = impl_->client->Get(path, httplib::Headers{{"Authorization", "Bearer " + impl_->token}});
  if (!res || res->status != 200) return -1;
  auto body = json::parse(res->body);
  return body.contains("items") ? static_cast<long long>(body["items"].size()) : -1;
}

long long HttpHarness::get_bytes(const std::string& path) {
  auto res = impl_->client->Get(path, httplib::Headers{{"Authorization", "Bearer " + impl_->token}});
  if (!res || res->status != 200) return -1;
  return static_cast<long long>(res->body.size());
}

int HttpHarness::post_json(const std::string& path, const std::string& body, json& response) {
  auto res = impl_->client->Post(path, httplib::Headers{{"Authorization", "Bearer " + impl_->token}}, body,
                                 "application/json");
  if (!res) {
    response = nullptr;
    return -1;
  }
  response = json::parse(res->body, nullptr, false);
  if (response.is_discarded()) response = nullptr;
  return res->status;
}

}  // namespace tradesphere::bench
