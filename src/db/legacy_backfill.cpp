// `backfill`: links every unlinked chat row to a customer in short batches, with
// one worker or N (docs/upgrade.md, "During"); `sync pause|resume`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "db/legacy_upgrade.hpp"
#include "db/legacy_upgrade_internal.hpp"
#include "db/migrations.hpp"

namespace tradesphere::db {
namespace {

// The checkpoint tables (backfill_checkpoint, backfill_company_checkpoint) are
// created by migration 0036 and dropped by its down (a rollback forgets them).

// Companies with rows left to examine (after the global and the company's own
// checkpoint), largest first: company, first id to examine after, rows left.
constexpr const char* kBackfillCompaniesLeft = R"sql(
SELECT v.company_id::text, greatest($1::bigint, coalesce(cp.last_id, 0)), count(*)
  FROM "VC Usage" v
  LEFT JOIN backfill_company_checkpoint cp ON cp.company_id = v.company_id
 WHERE v.company_id IS NOT NULL AND v.customer_id IS NULL AND v.id > greatest($1::bigint, coalesce(cp.last_id, 0))
 GROUP BY 1, 2
 ORDER BY 3 DESC, 1)sql";

// One batch: the company's ($1; NULL = any company) next orphaned rows after id $2,
// at most $3, linked in id order (migration 0035: set-based, row by row with
// link_chat_row() when the batch fails or $4 is false). Returns examined, linked,
// failed (left unlinked with an open sync failure), the last id examined, and
// whether the batch went row by row.
constexpr const char* kBackfillBatch =
    "SELECT examined, linked, failed, last_id, row_by_row FROM backfill_link_chat_rows($1::uuid, $2, $3, $4)";

// One worker: one id-ordered pass over every company with the global checkpoint.
constexpr const char* kSaveCheckpoint =
    "INSERT INTO backfill_checkpoint (id, last_id) VALUES (1, $1) "
    "ON CONFLICT (id) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()";

// N workers: one checkpoint per company (each company has exactly one worker).
constexpr const char* kSaveCompanyCheckpoint =
    "INSERT INTO backfill_company_checkpoint (company_id, last_id) VALUES ($1::uuid, $2) "
    "ON CONFLICT (company_id) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()";

// `sync resume`: the companies whose sync is not paused ($1: only that one).
constexpr const char* kResumableCompanies =
    "SELECT id::text FROM companies WHERE ($1::uuid IS NULL OR id = $1::uuid) AND NOT chat_sync_paused(id) ORDER BY id";
// The id before the company's oldest unlinked row with an open 'error'/'paused'
// failure (NULL when none): where a resume starts.
constexpr const char* kFirstOpenFailure = R"sql(
SELECT min(f.vc_usage_id) - 1
  FROM chat_sync_failures f
  JOIN "VC Usage" v ON v.company_id = f.company_id AND v.id = f.vc_usage_id AND v.customer_id IS NULL
 WHERE f.company_id = $1::uuid AND f.resolved_at IS NULL AND f.reason IN ('error', 'paused'))sql";
// Open failures of rows that are linked by now (link_chat_row() resolved these when it
// retried a row one by one; the backfill's batch examines unlinked rows only).
constexpr const char* kResolveLinkedFailures = R"sql(
UPDATE chat_sync_failures f SET resolved_at = now()
  FROM "VC Usage" v
 WHERE f.company_id = $1::uuid AND f.resolved_at IS NULL AND f.reason IN ('error', 'paused')
   AND v.company_id = f.company_id AND v.id = f.vc_usage_id AND v.customer_id IS NOT NULL)sql";
constexpr const char* kOpenFailures = R"sql(
SELECT count(DISTINCT f.vc_usage_id) FROM chat_sync_failures f
 WHERE f.company_id = $1::uuid AND f.resolved_at IS NULL AND f.reason IN ('error', 'paused'))sql";
constexpr int kResumeBatch = 500;
// `quarantine assign`: of the tech id's rows in the assigned id range, how many are
// linked and how many have an open sync failure.
constexpr const char* kAssignedRowsLinked = R"sql(
SELECT count(*) FILTER (WHERE v.customer_id IS NOT NULL),
       count(*) FILTER (WHERE v.customer_id IS NULL AND EXISTS (
         SELECT 1 FROM chat_sync_failures f
          WHERE f.company_id = v.company_id AND f.vc_usage_id = v.id AND f.resolved_at IS NULL))
  FROM "VC Usage" v
 WHERE v.company_id = $1::uuid AND v.tech_id IS NOT DISTINCT FROM $2 AND v.id BETWEEN $3 AND $4)sql";

constexpr const char* kSharedEmailGroups = R"sql(
WITH shared AS (
  SELECT k.company_id, k.key_value
    FROM customer_matching_keys k
    JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active'
   WHERE k.key_type = 'email'
   GROUP BY 1, 2 HAVING count(DISTINCT c.id) > 1)
SELECT DISTINCT s.company_id::text, s.key_value, c.created_at, c.id::text
  FROM shared s
  JOIN customer_matching_keys k ON k.company_id = s.company_id AND k.key_type = 'email' AND k.key_value = s.key_value
  JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active'
 ORDER BY 1, 2, 3, 4)sql";

// A worker's unit of work: one company (N workers) or every company at once (one
// worker), its rows after `after_id` in id order.
struct WorkUnit {
  std::optional<std::string> company_id;  // nullopt: every company, global checkpoint
  std::int64_t after_id = 0;              // examine rows with a larger id
  std::int64_t rows = 0;                  // rows left when the run started
};

// Units left, shared among the workers. One worker: a single unit over every
// company after the global checkpoint. N workers: whole companies per worker
// (largest first onto the least loaded), so workers never contend for a matching
// key or a session (their locks are per company) and each company's rows are
// linked in id order, as the single worker links them.
std::vector<std::vector<WorkUnit>> plan_work(pqxx::connection& conn, int jobs, std::int64_t global_last_id,
                                             std::int64_t& total) {
  total = 0;
  const auto workers = static_cast<std::size_t>(jobs);
  std::vector<std::vector<WorkUnit>> share(workers);
  pqxx::read_transaction tx(conn);
  if (workers == 1) {
    total = tx.exec_params1("SELECT count(*) FROM \"VC Usage\" WHERE id > $1 AND customer_id IS NULL "
                            "AND company_id IS NOT NULL",
                            global_last_id)[0]
                .as<std::int64_t>();
    share[0].push_back({std::nullopt, global_last_id, total});
    return share;
  }
  std::vector<std::int64_t> load(workers, 0);
  for (const auto& r : tx.exec_params(kBackfillCompaniesLeft, global_last_id)) {
    WorkUnit c{r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>()};
    auto w = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[w] += c.rows;
    total += c.rows;
    share[w].push_back(std::move(c));
  }
  return share;
}

// Links the company's unlinked rows after id `after` in id order, in committed
// batches of the backfill's batch (set-based; row by row when a row of the batch
// fails, which records its failure), up to the end or until a batch has passed row
// `until`; returns the rows linked. `sync resume` and `quarantine assign`: not in one transaction with
// link_chat_row() per row, which took ~25 ms a row and more the longer it ran
// (docs/performance.md, "Ninth session").
std::int64_t link_unlinked_rows_after(pqxx::connection& conn, const std::string& company, std::int64_t after,
                                      std::optional<std::int64_t> until) {
  std::int64_t linked = 0;
  while (!until || after < *until) {
    pqxx::work tx(conn);
    const auto r = tx.exec_params1(kBackfillBatch, company, after, kResumeBatch, true);
    tx.commit();
    if (r[0].as<std::int64_t>() == 0) break;
    linked += r[1].as<std::int64_t>();
    after = r[3].as<std::int64_t>();
  }
  return linked;
}

}  // namespace

BackfillReport backfill_chat_links(const std::string& admin_url, const BackfillOptions& options,
                                   const std::function<void(const BackfillProgress&)>& progress) {
  if (options.batch < 1) throw MigrationError("--batch must be at least 1");
  if (options.jobs < 1) throw MigrationError("--jobs must be at least 1");
  BackfillReport report;
  std::int64_t global_last_id = 0;
  std::int64_t total = 0;
  std::int64_t customers_before = 0;
  std::vector<std::vector<WorkUnit>> share;
  pqxx::connection conn(admin_url);
  {
    pqxx::read_transaction tx(conn);
    if (!legacy::new_schema_present(tx)) throw MigrationError("the new schema is not there yet: run `migrate up` first");
    auto cp = tx.exec("SELECT last_id FROM backfill_checkpoint WHERE id = 1");
    if (!cp.empty()) global_last_id = cp[0][0].as<std::int64_t>();
    customers_before = tx.exec("SELECT count(*) FROM customers")[0][0].as<std::int64_t>();
  }
  share = plan_work(conn, options.jobs, global_last_id, total);
  const bool per_company = options.jobs > 1;

  std::mutex mu;
  std::exception_ptr failure;
  std::atomic<bool> stop{false};
  std::atomic<int> batches_started{0};
  bool stopped_early = false;
  std::int64_t max_id_examined = global_last_id;
  const auto started = std::chrono::steady_clock::now();
  const double throttle = options.throttle_rows_per_second
                              ? *options.throttle_rows_per_second / static_cast<double>(options.jobs)
                              : 0;

  // The one batch loop, for one worker or N: one short transaction per batch that
  // links the rows and moves the unit's checkpoint.
  auto work = [&](const std::vector<WorkUnit>& mine) {
    try {
      pqxx::connection wconn(admin_url);
      for (const auto& unit : mine) {
        std::int64_t last_id = unit.after_id;
        for (;;) {
          if (stop) return;
          if (options.max_batches && batches_started.fetch_add(1) >= *options.max_batches) {
            std::lock_guard<std::mutex> lock(mu);
            stopped_early = true;
            return;
          }
          const auto batch_started = std::chrono::steady_clock::now();
          pqxx::work tx(wconn);
          const auto r = tx.exec_params1(kBackfillBatch, unit.company_id, last_id, options.batch, !options.row_by_row);
          const auto examined = r[0].as<std::int64_t>();
          if (examined == 0) {
            tx.commit();
            break;
          }
          last_id = r[3].as<std::int64_t>();
          if (unit.company_id) {
            tx.exec_params(kSaveCompanyCheckpoint, *unit.company_id, last_id);
          } else {
            tx.exec_params(kSaveCheckpoint, last_id);
          }
          tx.commit();
          {
            std::lock_guard<std::mutex> lock(mu);
            report.rows_examined += examined;
            report.rows_linked += r[1].as<std::int64_t>();
            report.failed += r[2].as<std::int64_t>();
            if (r[4].as<bool>()) ++report.batches_row_by_row;
            max_id_examined = std::max(max_id_examined, last_id);
            if (progress) {
              const double elapsed =
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
              BackfillProgress p;
              p.rows_done = report.rows_examined;
              p.rows_total = total;
              p.rows_per_second = elapsed > 0 ? report.rows_examined / elapsed : 0;
              p.eta_seconds = p.rows_per_second > 0 ? (total - report.rows_examined) / p.rows_per_second : 0;
              progress(p);
            }
          }
          if (throttle > 0) {
            auto want = std::chrono::duration<double>(examined / throttle);
            auto spent = std::chrono::steady_clock::now() - batch_started;
            if (want > spent) std::this_thread::sleep_for(want - spent);
          }
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
  };

  if (share.size() == 1) {
    work(share[0]);
  } else {
    std::vector<std::thread> threads;
    for (const auto& mine : share) {
      if (!mine.empty()) threads.emplace_back(work, std::cref(mine));
    }
    for (auto& t : threads) t.join();
  }
  if (failure) std::rethrow_exception(failure);
  report.finished = !stopped_early;
  if (report.finished && per_company) {
    // Every company is done up to here: a later single-worker run starts after it.
    pqxx::work tx(conn);
    tx.exec_params(kSaveCheckpoint, max_id_examined);
    tx.commit();
  }

  pqxx::read_transaction tx(conn);
  report.customers_created = tx.exec("SELECT count(*) FROM customers")[0][0].as<std::int64_t>() - customers_before;
  report.orphaned = report.rows_examined - report.rows_linked - report.failed;
  for (const auto& r : tx.exec(legacy::kOpenFailureCauses)) {
    report.open_failures.push_back(
        {r[0].as<std::string>(), r[1].as<std::string>(), r[2].is_null() ? "" : r[2].as<std::string>(),
         r[3].as<std::int64_t>()});
  }
  report.quarantined =
      tx.exec("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL")[0][0].as<std::int64_t>();
  return report;
}

std::vector<SharedEmailGroup> shared_email_groups(const std::string& admin_url) {
  pqxx::connection conn(admin_url);
  // planned on current statistics: with those of before `migrate up` filled the keys,
  // a nested loop over them took 105 s instead of 0.4 s on 50k legacy customers
  analyze_owned_tables(conn, {"customers", "customer_matching_keys"});
  pqxx::read_transaction tx(conn);
  std::vector<SharedEmailGroup> out;
  for (const auto& r : tx.exec(kSharedEmailGroups)) {
    auto company = r[0].as<std::string>(), email = r[1].as<std::string>();
    if (out.empty() || out.back().company_id != company || out.back().email != email)
      out.push_back({std::move(company), std::move(email), {}});
    out.back().customer_ids.push_back(r[3].as<std::string>());
  }
  return out;
}

void pause_chat_sync(const std::string& admin_url, const std::optional<std::string>& company_id) {
  pqxx::connection conn(admin_url);
  pqxx::work tx(conn);
  if (company_id) {
    tx.exec_params("SELECT set_chat_sync_paused($1::uuid, true)", *company_id);
  } else {
    tx.exec("SELECT set_chat_sync_paused(NULL, true)");
  }
  tx.commit();
}

ResumeReport resume_chat_sync(const std::string& admin_url, const std::optional<std::string>& company_id) {
  pqxx::connection conn(admin_url);
  {
    pqxx::work tx(conn);
    if (company_id) {
      tx.exec_params("SELECT set_chat_sync_paused($1::uuid, false)", *company_id);
    } else {
      // A company-level pause stays until resumed for that company; the global resume only lifts the global switch.
      tx.exec("SELECT set_chat_sync_paused(NULL, false)");
    }
    tx.commit();
  }
  ResumeReport report;
  std::vector<std::string> companies;
  {
    pqxx::read_transaction tx(conn);
    for (const auto& r : tx.exec_params(kResumableCompanies, company_id)) companies.push_back(r[0].as<std::string>());
  }
  for (const auto& company : companies) {
    // Every unlinked row of the company from its oldest open 'error'/'paused' failure
    // on, in id order, in committed batches of the backfill's own batch (set-based; row
    // by row when a row fails again, which records its new cause). Not only the failed
    // rows: a row without contact data is linked through its session once the session's
    // earlier row is, so the rows between failures are examined too, as a backfill
    // would (LegacyUpgradeTest: the same links as a backfill that never failed).
    std::optional<std::int64_t> first;
    {
      pqxx::read_transaction tx(conn);
      const auto f = tx.exec_params1(kFirstOpenFailure, company)[0];
      if (!f.is_null()) first = f.as<std::int64_t>();
    }
    if (first) report.linked += link_unlinked_rows_after(conn, company, *first, std::nullopt);
    pqxx::work tx(conn);
    tx.exec_params0(kResolveLinkedFailures, company);
    report.still_failing += tx.exec_params1(kOpenFailures, company)[0].as<std::int64_t>();
    tx.commit();
  }
  return report;
}

QuarantineAssignReport assign_quarantined_rows(const std::string& admin_url, const std::string& tech_id,
                                              const std::string& company_id) {
  pqxx::connection conn(admin_url);
  QuarantineAssignReport report;
  std::int64_t first = 0, last = 0;
  {
    pqxx::work tx(conn);
    const auto r = tx.exec_params1(
        "SELECT cardinality(a), a[1], a[cardinality(a)] FROM assign_quarantined_chat_rows_unlinked($1, $2::uuid) a",
        tech_id, company_id);
    tx.commit();
    report.assigned = r[0].as<std::int64_t>();
    if (report.assigned == 0) return report;
    first = r[1].as<std::int64_t>();
    last = r[2].as<std::int64_t>();
  }
  link_unlinked_rows_after(conn, company_id, first - 1, last);
  pqxx::read_transaction tx(conn);
  const auto r = tx.exec_params1(kAssignedRowsLinked, company_id, tech_id, first, last);
  report.linked = r[0].as<std::int64_t>();
  report.failed = r[1].as<std::int64_t>();
  return report;
}

}  // namespace tradesphere::db
