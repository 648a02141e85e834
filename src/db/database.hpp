// Units of work against PostgreSQL: lease a connection, open a transaction,
// SET LOCAL the tenant/actor settings that RLS policies and audit triggers
// read, run the caller's statements, commit explicitly — and retry the whole
// unit (at most domain::kMaxAttempts) only on serialization failure, deadlock
// or a connection broken before COMMIT. Failures leave as domain errors.
//
//   auto c = db.transact(ctx, "get_customer_by_id", [&](Tx& tx) {
//     return customer_from_row(tx.exec1(kSelectCustomer, ctx.company_id, id));
//   });
//
// The callback may run more than once: it must touch nothing outside `tx`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <pqxx/pqxx>

#include "db/connection_pool.hpp"
#include "db/sql_errors.hpp"
#include "domain/errors.hpp"
#include "domain/request_context.hpp"
#include "domain/retry.hpp"

namespace tradesphere::db {

enum class TxMode { kReadWrite, kReadOnly };

// A transaction handed to repository code: statement helpers that state the
// expected row count (like libpqxx's exec1/exec0) and count statements.
class Tx {
 public:
  Tx(pqxx::work& work, std::atomic<std::uint64_t>& statements) : work_(work), statements_(statements) {}

  template <typename... Args>
  pqxx::result exec(const std::string& sql, Args&&... args) {
    ++statements_;
    if constexpr (sizeof...(Args) == 0) {
      return work_.exec(sql);
    } else {
      return work_.exec_params(sql, std::forward<Args>(args)...);
    }
  }
  // Exactly one row, else RepositoryError (a NotFound decision belongs to the caller: use exec01).
  template <typename... Args>
  pqxx::row exec1(const std::string& sql, Args&&... args) {
    auto r = exec(sql, std::forward<Args>(args)...);
    if (r.size() != 1) throw domain::RepositoryError("expected one row, got " + std::to_string(r.size()));
    return r[0];
  }
  // Zero or one row.
  template <typename... Args>
  std::optional<pqxx::row> exec01(const std::string& sql, Args&&... args) {
    auto r = exec(sql, std::forward<Args>(args)...);
    if (r.size() > 1) throw domain::RepositoryError("expected at most one row, got " + std::to_string(r.size()));
    if (r.empty()) return std::nullopt;
    return r[0];
  }
  template <typename... Args>
  void exec0(const std::string& sql, Args&&... args) {
    auto r = exec(sql, std::forward<Args>(args)...);
    if (!r.empty()) throw domain::RepositoryError("expected no rows");
  }

  pqxx::work& raw() { return work_; }
  std::string quote(const std::string& s) { return work_.quote(s); }

 private:
  pqxx::work& work_;
  std::atomic<std::uint64_t>& statements_;
};

class Database {
 public:
  explicit Database(PoolOptions options);

  template <typename F>
  auto transact(const domain::RequestContext& ctx, std::string_view operation, F&& fn,
                TxMode mode = TxMode::kReadWrite) -> std::invoke_result_t<F&, Tx&>;

  ConnectionPool& pool() { return pool_; }
  // Statements run through Tx (the per-transaction settings statement included). For tests
  // and benchmarks that count queries per operation.
  std::uint64_t statements_executed() const { return statements_.load(); }

 private:
  void begin(Tx& tx, const domain::RequestContext& ctx, TxMode mode);
  // Metrics of one unit of work, and a JSON log line (debug level) with
  // the method, duration, company and correlation id.
  void observe(const domain::RequestContext& ctx, std::string_view operation,
               std::chrono::steady_clock::duration elapsed, bool ok);
  void count_retry(std::string_view operation);

  ConnectionPool pool_;
  std::atomic<std::uint64_t> statements_{0};
};

template <typename F>
auto Database::transact(const domain::RequestContext& ctx, std::string_view operation, F&& fn, TxMode mode)
    -> std::invoke_result_t<F&, Tx&> {
  using Result = std::invoke_result_t<F&, Tx&>;
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    bool committing = false;
    std::exception_ptr failure;
    try {
      auto lease = pool_.acquire();
      try {
        pqxx::work work(*lease);
        Tx tx(work, statements_);
        begin(tx, ctx, mode);
        if constexpr (std::is_void_v<Result>) {
          fn(tx);
          committing = true;
          work.commit();
          observe(ctx, operation, std::chrono::steady_clock::now() - started, true);
          return;
        } else {
          Result result = fn(tx);
          committing = true;
          work.commit();
          observe(ctx, operation, std::chrono::steady_clock::now() - started, true);
          return result;
        }
      } catch (const pqxx::broken_connection&) {
        lease.discard();
        throw;
      } catch (const pqxx::in_doubt_error&) {
        lease.discard();
        throw;
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (domain::should_retry(describe_failure(failure, committing), attempt)) {
      count_retry(operation);
      std::this_thread::sleep_for(domain::backoff_delay(attempt, rng));
      continue;
    }
    observe(ctx, operation, std::chrono::steady_clock::now() - started, false);
    rethrow_as_domain_error(failure);
  }
}

}  // namespace tradesphere::db
