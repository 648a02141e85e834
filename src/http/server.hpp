// The HTTP server: Boost.Beast on one Boost.Asio network thread, handlers on a
// bounded, per-company fair worker pool (fair_scheduler.hpp). An idle or slow
// connection costs a socket and a few hundred bytes, never a thread. Routes,
// auth, problem+json, metrics and the access log: dispatcher.hpp, docs/api.md.
#pragma once

#include <chrono>
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
  int threads = 8;                          // handler (worker) threads = database connections
  std::size_t max_body_bytes = 1 << 20;     // larger bodies → 413, refused before they are read
  std::size_t max_header_bytes = 16 << 10;  // request line + headers; larger → 431
  std::size_t max_connections = 20000;      // over it: 503 at once, counted, connection closed
  // Whole request head (from the connection's first byte or the end of the previous
  // response's idle wait): a slow or stalled sender is closed after it.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection without a request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds drain_timeout{20'000};   // stop(): in-flight requests get this long
  // A queued request older than this when a worker takes it is answered 503 (its
  // client has most likely given up); and the queue is bounded (SchedulerLimits).
  std::chrono::milliseconds queue_timeout{10'000};
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
  // Serves until stop(); in-flight requests finish (up to drain_timeout) before it returns.
  void run();
  // Thread-safe; may be called from a signal-watching thread. Stops accepting,
  // closes connections that wait for a request, lets in-flight requests finish.
  void stop();
  // Open connections (for tests and /metrics).
  std::size_t connections() const;

  // (method, path template) of every registered route, e.g. {"GET", "/v1/customers/{id}"}.
  std::vector<std::pair<std::string, std::string>> routes() const;

  struct Impl;  // defined in server.cpp (keeps Beast out of this header)

 private:
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGINT/SIGTERM in the calling thread. Call it before starting any
// thread of a serving process: a thread that does not block them would take the
// signal's default action (kill the process) instead of a graceful drain.
void block_stop_signals();

// Binds, serves, and drains cleanly on SIGINT/SIGTERM. Returns the exit code.
int serve_until_signal(ServerOptions options);

}  // namespace tradesphere::http
