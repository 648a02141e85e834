// The HTTP server: cpp-httplib behind a small interface so no httplib type
// leaks out of src/http. Routes, auth, problem+json, metrics and the access log
// are described in docs/api.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "db/database_config.hpp"

namespace tradesphere::http {

struct ApiServices;  // http/api_services.hpp

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0 = any free port (tests)
  db::DatabaseTarget database;
  int threads = 8;
  std::size_t max_body_bytes = 1 << 20;     // larger bodies → 413
  // HS256 signing secret of the bearer tokens (empty: every authenticated route answers 401).
  std::string jwt_secret;
  // The library the routes call; built from database.app_url when null.
  std::shared_ptr<ApiServices> services;
  // Test hook: called on the worker thread after authentication, before the handler.
  std::function<void(const std::string& method, const std::string& route)> before_handler;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  int bind();
  // Serves until stop(); in-flight requests finish before it returns.
  void run();
  // Thread-safe; may be called from a signal-watching thread.
  void stop();

  // (method, path template) of every registered route, e.g. {"GET", "/v1/customers/{id}"}.
  std::vector<std::pair<std::string, std::string>> routes() const;

  struct Impl;  // defined in server.cpp (keeps httplib out of this header)

 private:
  std::unique_ptr<Impl> impl_;
};

// Binds, serves, and stops cleanly on SIGINT/SIGTERM. Returns the exit code.
int serve_until_signal(ServerOptions options);

}  // namespace tradesphere::http
