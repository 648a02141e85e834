// The HTTP server: cpp-httplib behind a small interface so no httplib type
// leaks out of src/http.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "db/database_config.hpp"

namespace tradesphere::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0 = any free port (tests)
  db::DatabaseTarget database;
  int threads = 8;
  std::size_t max_body_bytes = 1 << 20;     // larger bodies → 413
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

  struct Impl;  // defined in server.cpp (keeps httplib out of this header)

 private:
  std::unique_ptr<Impl> impl_;
};

// Binds, serves, and stops cleanly on SIGINT/SIGTERM. Returns the exit code.
int serve_until_signal(ServerOptions options);

}  // namespace tradesphere::http
