// A fixed-size pool of libpqxx connections with RAII leases and a bounded wait.
//
// pgbouncer (transaction mode) safe: no session state is set outside a
// transaction (settings are SET LOCAL per transaction, see database.hpp) and
// only unnamed statements are used (exec_params), so nothing outlives a
// transaction on a server connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace tradesphere::db {

struct PoolOptions {
  std::string url;
  int size = 8;
  std::chrono::milliseconds acquire_timeout{2000};    // then UnavailableError
  std::chrono::milliseconds statement_timeout{5000};  // SET LOCAL in every transaction
};

class ConnectionPool {
 public:
  explicit ConnectionPool(PoolOptions options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // The connection is broken or in an unknown state: close it instead of returning it.
    void discard() noexcept { discard_ = true; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool discard_ = false;
  };

  // Waits at most acquire_timeout for a free connection (opening one lazily
  // while fewer than `size` exist). Throws UnavailableError on timeout or when
  // the database cannot be reached.
  Lease acquire();

  const PoolOptions& options() const { return options_; }
  int in_use() const;
  int open_connections() const;

 private:
  void release(std::unique_ptr<pqxx::connection> conn, bool discard) noexcept;

  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;
  int in_use_ = 0;
};

}  // namespace tradesphere::db
