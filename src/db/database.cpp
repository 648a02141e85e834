#include "db/database.hpp"

#include "common/json_log.hpp"
#include "common/metrics.hpp"

namespace tradesphere::db {
namespace {

// One round trip sets every transaction-local setting the policies, audit
// triggers and timeouts read (set_config(..., true) = SET LOCAL).
#define TS_BEGIN_CONTEXT                                                                 \
  "SELECT set_config('app.company_id', $1, true), set_config('app.user_id', $2, true), " \
  "set_config('app.role', $3, true), set_config('app.correlation_id', $4, true), "       \
  "set_config('statement_timeout', $5, true)"
constexpr const char* kBeginContext = TS_BEGIN_CONTEXT;
// The same, read only: SET LOCAL transaction_read_only = on is SET TRANSACTION READ
// ONLY (switching to read only is allowed at any point of a transaction), in the same
// round trip instead of one of its own (a list page is 4 round trips, not 5).
constexpr const char* kBeginContextReadOnly = TS_BEGIN_CONTEXT ", set_config('transaction_read_only', 'on', true)";
#undef TS_BEGIN_CONTEXT

}  // namespace

Database::Database(PoolOptions options) : pool_(std::move(options)) {}

void Database::begin(Tx& tx, const domain::RequestContext& ctx, TxMode mode) {
  tx.exec(mode == TxMode::kReadOnly ? kBeginContextReadOnly : kBeginContext, ctx.company_id, ctx.user_id,
          std::string(domain::to_string(ctx.role)), ctx.correlation_id,
          std::to_string(pool_.options().statement_timeout.count()));
}

void Database::observe(const domain::RequestContext& ctx, std::string_view operation,
                       std::chrono::steady_clock::duration elapsed, bool ok) {
  // debug only: a failed unit is often a normal outcome (not found, version conflict), and
  // database failures are logged at error by rethrow_as_domain_error.
  const auto level = spdlog::level::debug;
  if (common::log_enabled(level)) {
    nlohmann::json fields = {{"method", std::string(operation)},
                             {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()},
                             {"ok", ok}};
    if (!ctx.company_id.empty()) fields["company_id"] = ctx.company_id;
    if (!ctx.correlation_id.empty()) fields["correlation_id"] = ctx.correlation_id;
    common::log(level, ok ? "db.unit_of_work" : "db.unit_of_work_failed", std::move(fields));
  }
  common::metrics()
      .histogram("tradesphere_db_transaction_duration_seconds", "Duration of a unit of work by repository method",
                 {{"method", std::string(operation)}})
      .observe(elapsed);
  if (!ok) {
    common::metrics()
        .counter("tradesphere_db_transaction_failures_total", "Units of work that failed after retries",
                 {{"method", std::string(operation)}})
        .inc();
  }
}

void Database::count_retry(std::string_view operation) {
  common::metrics()
      .counter("tradesphere_db_retries_total", "Transactions retried after a transient failure",
               {{"method", std::string(operation)}})
      .inc();
}

}  // namespace tradesphere::db
