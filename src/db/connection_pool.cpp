#include "db/connection_pool.hpp"

#include <pqxx/pqxx>

#include "common/metrics.hpp"
#include "domain/errors.hpp"

namespace tradesphere::db {
namespace {

common::Gauge& in_use_gauge() {
  static auto& g = common::metrics().gauge("tradesphere_db_pool_in_use", "Connections leased from the pool");
  return g;
}
common::Gauge& open_gauge() {
  static auto& g = common::metrics().gauge("tradesphere_db_pool_open", "Open connections in the pool");
  return g;
}
common::Counter& waits_counter() {
  static auto& c = common::metrics().counter("tradesphere_db_pool_waits_total", "Acquires that had to wait");
  return c;
}
common::Counter& timeouts_counter() {
  static auto& c =
      common::metrics().counter("tradesphere_db_pool_timeouts_total", "Acquires that gave up (pool exhausted)");
  return c;
}

}  // namespace

ConnectionPool::ConnectionPool(PoolOptions options) : options_(std::move(options)) {
  if (options_.size < 1) throw domain::ValidationError("pool_size", "must be at least 1");
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_), discard_);
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  auto ready = [this] { return !idle_.empty() || open_ < options_.size; };
  if (!ready()) {
    waits_counter().inc();
    if (!available_.wait_for(lock, options_.acquire_timeout, ready)) {
      timeouts_counter().inc();
      throw domain::UnavailableError("database connection pool exhausted (waited " +
                                     std::to_string(options_.acquire_timeout.count()) + " ms)");
    }
  }
  ++in_use_;
  in_use_gauge().set(in_use_);
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  open_gauge().set(open_);
  lock.unlock();
  try {
    return Lease(this, std::make_unique<pqxx::connection>(options_.url));
  } catch (const std::exception&) {
    lock.lock();
    --open_;
    --in_use_;
    open_gauge().set(open_);
    in_use_gauge().set(in_use_);
    available_.notify_one();
    throw domain::UnavailableError("cannot connect to the database");
  }
}

void ConnectionPool::release(std::unique_ptr<pqxx::connection> conn, bool discard) noexcept {
  bool broken = discard || !conn->is_open();
  if (broken) conn.reset();  // close outside the lock would be nicer; it is quick
  std::lock_guard lock(mutex_);
  --in_use_;
  if (broken) {
    --open_;
  } else {
    idle_.push_back(std::move(conn));
  }
  in_use_gauge().set(in_use_);
  open_gauge().set(open_);
  available_.notify_one();
}

int ConnectionPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

int ConnectionPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace tradesphere::db
