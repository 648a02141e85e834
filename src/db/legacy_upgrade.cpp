#include "db/legacy_upgrade.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <pqxx/pqxx>

#include "db/legacy_normalization.hpp"
#include "db/migrations.hpp"

namespace tradesphere::db {
namespace {

// The legacy tables, their columns in order, and how to hash a row of each
// over the legacy columns only (the upgrade adds columns; those don't count).
struct LegacyTable {
  const char* name;       // SQL identifier, quoted where needed
  const char* label;      // as shown to people
  std::vector<std::pair<const char*, const char*>> columns;  // name, information_schema data_type
  const char* key;        // row key expression
  const char* hash;       // row hash expression over the legacy columns
  const char* company;    // company expression (may use the alias t)
  bool values_checked;    // false: presence only (customers: users may legitimately edit them)
};

// Hashes read every column cast to its baseline type, so a row hashes the same
// before and after `migrate up` normalizes the legacy shape (varchar -> text,
// timestamp -> timestamptz read as UTC: every connection here uses TimeZone UTC,
// integer -> bigint, canonical text uuids -> uuid) and again after the rollback.
const std::vector<LegacyTable>& legacy_tables() {
  static const std::vector<LegacyTable> tables = {
      {"companies", "companies", {{"id", "uuid"}, {"slug", "text"}, {"name", "text"}}, "t.id::text",
       "md5(ROW(t.id::uuid, t.slug::text, t.name::text)::text)", "t.id::text", true},
      {"app_users", "app_users", {{"tech_id", "text"}, {"company_id", "uuid"}, {"role", "text"}}, "t.tech_id::text",
       "md5(ROW(t.tech_id::text, t.company_id::uuid, t.role::text)::text)", "t.company_id::text", true},
      {"\"VC Usage\"", "VC Usage",
       {{"id", "bigint"}, {"session_id", "text"}, {"tech_id", "text"}, {"customer_name", "text"},
        {"customer_email", "text"}, {"customer_phone", "text"}, {"user_message", "text"}, {"ai_response", "text"},
        {"created_at", "timestamp with time zone"}},
       "t.id::text",
       "md5(ROW(t.id::bigint, t.session_id::text, t.tech_id::text, t.customer_name::text, t.customer_email::text, "
       "t.customer_phone::text, t.user_message::text, t.ai_response::text, t.created_at::timestamptz)::text)",
       // min(): a legacy app_users may hold identical copies of a user (parked by the normalization)
       "(SELECT min(u.company_id::text) FROM app_users u WHERE u.tech_id::text = t.tech_id::text)", true},
      {"customers", "customers",
       {{"id", "uuid"}, {"company_id", "uuid"}, {"name", "text"}, {"email", "text"}, {"phone", "text"},
        {"created_at", "timestamp with time zone"}},
       "t.id::text",
       "md5(ROW(t.id::uuid, t.company_id::uuid, t.name::text, t.email::text, t.phone::text, "
       "t.created_at::timestamptz)::text)",
       "t.company_id::text", false},
  };
  return tables;
}

constexpr const char* kCreateSnapshotTables = R"sql(
CREATE TABLE IF NOT EXISTS legacy_snapshot (
  table_name  text NOT NULL,
  company_key text NOT NULL,
  row_count   bigint NOT NULL,
  checksum    text NOT NULL,
  taken_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_name, company_key)
);
CREATE TABLE IF NOT EXISTS legacy_snapshot_rows (
  table_name text NOT NULL,
  row_key    text NOT NULL,
  row_hash   text NOT NULL,
  PRIMARY KEY (table_name, row_key)
);
CREATE TABLE IF NOT EXISTS backfill_checkpoint (
  id           integer PRIMARY KEY CHECK (id = 1),
  last_id      bigint NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
))sql";

// backfill --jobs N: one checkpoint per company (each company has exactly one worker).
constexpr const char* kCreateCompanyCheckpoints = R"sql(
CREATE TABLE IF NOT EXISTS backfill_company_checkpoint (
  company_id uuid PRIMARY KEY,
  last_id    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
))sql";

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

constexpr const char* kSaveCompanyCheckpoint =
    "INSERT INTO backfill_company_checkpoint (company_id, last_id) VALUES ($1::uuid, $2) "
    "ON CONFLICT (company_id) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()";

// Open sync failures by cause, largest first, with one example message each.
constexpr const char* kOpenFailureCauses = R"sql(
SELECT reason, coalesce(sqlstate, ''), min(message), count(DISTINCT (company_id, vc_usage_id))
  FROM chat_sync_failures WHERE resolved_at IS NULL
 GROUP BY 1, 2 ORDER BY 4 DESC, 1, 2)sql";

// One email, one active customer per company (issue 15): normalized emails (the
// matching keys) held by more than one active customer, with a few examples.
constexpr const char* kSharedEmails = R"sql(
WITH shared AS (
  SELECT k.company_id, k.key_value, count(DISTINCT k.customer_id) AS holders
    FROM customer_matching_keys k
    JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active'
   WHERE k.key_type = 'email'
   GROUP BY 1, 2 HAVING count(DISTINCT k.customer_id) > 1)
SELECT (SELECT count(*) FROM shared),
       (SELECT coalesce(string_agg(e, ', '), '') FROM (
          SELECT s.key_value || ' (' || s.holders || ' customers of ' || co.slug || ')' AS e
            FROM shared s JOIN companies co ON co.id = s.company_id
           ORDER BY s.holders DESC, s.key_value LIMIT 3) x))sql";

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

constexpr const char* kNoNestedLoops = "SET LOCAL enable_nestloop = off";

constexpr const char* kSaveCheckpoint =
    "INSERT INTO backfill_checkpoint (id, last_id) VALUES (1, $1) "
    "ON CONFLICT (id) DO UPDATE SET last_id = EXCLUDED.last_id, updated_at = now()";

bool table_exists(pqxx::transaction_base& tx, const std::string& name) {
  return !tx.exec_params("SELECT to_regclass($1)", name)[0][0].is_null();
}

// Every connection of this module hashes timestamps in UTC so text forms agree.
void utc(pqxx::transaction_base& tx) { tx.exec("SET TIME ZONE 'UTC'"); }

bool new_schema_present(pqxx::transaction_base& tx) { return table_exists(tx, "customer_metrics"); }

}  // namespace

AdoptResult adopt_legacy_database(const std::string& admin_url) {
  MigrationRunner runner(admin_url);
  if (runner.has_history()) {
    throw MigrationError("this database already has migration history: nothing to adopt (use `migrate up`)");
  }
  auto diffs = analyze_legacy_shape(admin_url);
  const auto blocking = std::count_if(diffs.begin(), diffs.end(),
                                      [](const ShapeDifference& d) { return d.kind == ShapeClass::kBlocking; });
  if (blocking > 0) {
    std::string msg = "the legacy tables differ from the baseline (migration 0001) in a way adopt cannot normalize; "
                      "nothing was changed. Apply the fixes of the blocking differences and run `migrate adopt` again:";
    for (auto kind : {ShapeClass::kBlocking, ShapeClass::kNormalized, ShapeClass::kKept}) {
      for (const auto& d : diffs) {
        if (d.kind == kind) msg += "\n  - " + d.text();
      }
    }
    throw MigrationError(msg);
  }
  AdoptResult result;
  result.differences = diffs;
  {
    pqxx::connection conn(admin_url);
    pqxx::work tx(conn);
    utc(tx);
    tx.exec(kCreateSnapshotTables);
    record_legacy_normalization_plan(tx, diffs);
    tx.exec("TRUNCATE legacy_snapshot, legacy_snapshot_rows");
    for (const auto& t : legacy_tables()) {
      std::string label = t.label;
      // DISTINCT: identical copies of a row (parked by the normalization) hash alike.
      tx.exec_params(std::string("INSERT INTO legacy_snapshot_rows (table_name, row_key, row_hash) SELECT DISTINCT $1, ") +
                         t.key + ", " + t.hash + " FROM " + t.name + " t",
                     label);
      auto count = tx.exec_params(
          std::string("INSERT INTO legacy_snapshot (table_name, company_key, row_count, checksum) "
                      "SELECT $1, coalesce(c, '(none)'), count(*), md5(string_agg(h, '' ORDER BY k)) FROM (SELECT ") +
              t.key + " AS k, " + t.hash + " AS h, " + t.company + " AS c FROM " + t.name +
              " t) s GROUP BY 1, 2 RETURNING row_count",
          label);
      std::int64_t total = 0;
      for (const auto& r : count) total += r[0].as<std::int64_t>();
      result.rows_per_table.emplace_back(label, total);
    }
    tx.commit();
  }
  runner.mark_applied_without_running(kLegacyBaselineVersion);
  return result;
}

namespace {

struct CompanyWork {
  std::string company_id;
  std::int64_t after_id = 0;  // examine rows with a larger id
  std::int64_t rows = 0;      // rows left when the run started
};

// backfill --jobs N (N > 1): whole companies per worker, so workers never contend
// for a matching key or a session (their locks are per company), and each
// company's rows are linked in id order, as the single-worker backfill does.
void backfill_in_parallel(const std::string& admin_url, const BackfillOptions& options, std::int64_t global_last_id,
                          const std::function<void(const BackfillProgress&)>& progress, BackfillReport& report) {
  std::vector<CompanyWork> companies;
  {
    pqxx::connection conn(admin_url);
    pqxx::work tx(conn);
    tx.exec(kCreateCompanyCheckpoints);
    for (const auto& r : tx.exec_params(kBackfillCompaniesLeft, global_last_id)) {
      companies.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>()});
    }
    tx.commit();
  }
  const auto workers = static_cast<std::size_t>(options.jobs);
  // Largest company first onto the least loaded worker.
  std::vector<std::vector<CompanyWork>> share(workers);
  std::vector<std::int64_t> load(workers, 0);
  std::int64_t total = 0;
  for (const auto& c : companies) {
    auto w = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    share[w].push_back(c);
    load[w] += c.rows;
    total += c.rows;
  }

  std::mutex mu;
  std::exception_ptr failure;
  std::atomic<bool> stop{false};
  std::atomic<int> batches_started{0};
  bool stopped_early = false;
  std::int64_t max_id_examined = global_last_id;
  const auto started = std::chrono::steady_clock::now();
  const double throttle =
      options.throttle_rows_per_second ? *options.throttle_rows_per_second / static_cast<double>(workers) : 0;

  auto work = [&](const std::vector<CompanyWork>& mine) {
    try {
      pqxx::connection conn(admin_url);
      for (const auto& c : mine) {
        std::int64_t last_id = c.after_id;
        for (;;) {
          if (stop) return;
          if (options.max_batches && batches_started.fetch_add(1) >= *options.max_batches) {
            std::lock_guard<std::mutex> lock(mu);
            stopped_early = true;
            return;
          }
          const auto batch_started = std::chrono::steady_clock::now();
          pqxx::work tx(conn);
          const auto r = tx.exec_params1(kBackfillBatch, std::optional<std::string>(c.company_id), last_id,
                                         options.batch, !options.row_by_row);
          const auto examined = r[0].as<std::int64_t>();
          if (examined == 0) {
            tx.commit();
            break;
          }
          last_id = r[3].as<std::int64_t>();
          tx.exec_params(kSaveCompanyCheckpoint, c.company_id, last_id);
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

  std::vector<std::thread> threads;
  for (const auto& mine : share) {
    if (!mine.empty()) threads.emplace_back(work, std::cref(mine));
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  report.finished = !stopped_early;
  if (report.finished) {
    // Every company is done up to here: a later single-worker run starts after it.
    pqxx::connection conn(admin_url);
    pqxx::work tx(conn);
    tx.exec_params(kSaveCheckpoint, max_id_examined);
    tx.commit();
  }
}

}  // namespace

BackfillReport backfill_chat_links(const std::string& admin_url, const BackfillOptions& options,
                                   const std::function<void(const BackfillProgress&)>& progress) {
  if (options.batch < 1) throw MigrationError("--batch must be at least 1");
  if (options.jobs < 1) throw MigrationError("--jobs must be at least 1");
  pqxx::connection conn(admin_url);
  BackfillReport report;
  std::int64_t last_id = 0;
  std::int64_t total = 0;
  std::int64_t customers_before = 0;
  {
    pqxx::work tx(conn);
    if (!new_schema_present(tx)) throw MigrationError("the new schema is not there yet: run `migrate up` first");
    tx.exec(kCreateSnapshotTables);
    auto cp = tx.exec("SELECT last_id FROM backfill_checkpoint WHERE id = 1");
    if (!cp.empty()) last_id = cp[0][0].as<std::int64_t>();
    total = tx.exec_params(
                  "SELECT count(*) FROM \"VC Usage\" WHERE id > $1 AND customer_id IS NULL AND company_id IS NOT NULL",
                  last_id)[0][0]
                .as<std::int64_t>();
    customers_before = tx.exec("SELECT count(*) FROM customers")[0][0].as<std::int64_t>();
    tx.commit();
  }
  const auto started = std::chrono::steady_clock::now();
  int batches = 0;
  if (options.jobs > 1) {
    backfill_in_parallel(admin_url, options, last_id, progress, report);
  }
  while (options.jobs == 1) {  // one worker: one id-ordered pass with the global checkpoint
    if (options.max_batches && batches >= *options.max_batches) break;
    const auto batch_started = std::chrono::steady_clock::now();
    pqxx::work tx(conn);
    // One short transaction per batch: link the rows, move the checkpoint.
    const auto r = tx.exec_params1(kBackfillBatch, std::optional<std::string>{}, last_id, options.batch,
                                   !options.row_by_row);
    const auto examined = r[0].as<std::int64_t>();
    if (examined == 0) {
      tx.commit();
      report.finished = true;
      break;
    }
    report.rows_examined += examined;
    report.rows_linked += r[1].as<std::int64_t>();
    report.failed += r[2].as<std::int64_t>();
    if (r[4].as<bool>()) ++report.batches_row_by_row;
    last_id = r[3].as<std::int64_t>();
    tx.exec_params(kSaveCheckpoint, last_id);
    tx.commit();
    ++batches;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (progress) {
      BackfillProgress p;
      p.rows_done = report.rows_examined;
      p.rows_total = total;
      p.rows_per_second = elapsed > 0 ? report.rows_examined / elapsed : 0;
      p.eta_seconds = p.rows_per_second > 0 ? (total - report.rows_examined) / p.rows_per_second : 0;
      progress(p);
    }
    if (options.throttle_rows_per_second && *options.throttle_rows_per_second > 0) {
      auto want = std::chrono::duration<double>(examined / *options.throttle_rows_per_second);
      auto spent = std::chrono::steady_clock::now() - batch_started;
      if (want > spent) std::this_thread::sleep_for(want - spent);
    }
  }
  pqxx::read_transaction tx(conn);
  report.customers_created = tx.exec("SELECT count(*) FROM customers")[0][0].as<std::int64_t>() - customers_before;
  report.orphaned = report.rows_examined - report.rows_linked - report.failed;
  for (const auto& r : tx.exec(kOpenFailureCauses)) {
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

VerifyReport verify_upgrade(const std::string& admin_url) {
  VerifyReport report;
  pqxx::connection conn(admin_url);
  pqxx::read_transaction tx(conn);
  utc(tx);
  if (!table_exists(tx, "legacy_snapshot_rows")) {
    report.ok = false;
    report.failures.push_back("no legacy snapshot: this database was not adopted with `migrate adopt`");
    return report;
  }
  const bool upgraded = new_schema_present(tx);
  // Row-level security predicates (and the parameters of customer_metrics_expected,
  // a SQL function that is never inlined) make the planner expect a handful of rows
  // and pick nested loops: quadratic on 1M chat rows (the snapshot comparison ran
  // > 5 min, the drift check > 11 min, both stopped; with hash and merge joins they
  // take 3 s and 10 s). Every check here joins large sets.
  tx.exec(kNoNestedLoops);
  for (const auto& t : legacy_tables()) {
    std::string label = t.label;
    std::string current = std::string("SELECT ") + t.key + " AS row_key, " + t.hash + " AS row_hash FROM " + t.name + " t";
    if (!t.values_checked && upgraded && table_exists(tx, "legacy_customers_quarantine")) {
      // Legacy customers without a valid company are parked there by the upgrade, not dropped.
      current += " UNION ALL SELECT q.id::text, NULL FROM legacy_customers_quarantine q";
    }
    std::string compare = t.values_checked ? "c.row_hash IS DISTINCT FROM s.row_hash" : "c.row_key IS NULL";
    auto rows = tx.exec_params("SELECT s.row_key, c.row_key IS NULL AS missing, count(*) OVER () FROM legacy_snapshot_rows s "
                               "LEFT JOIN (" + current + ") c ON c.row_key = s.row_key "
                               "WHERE s.table_name = $1 AND " + compare + " ORDER BY s.row_key LIMIT 50",
                               label);
    report.legacy_rows_checked +=
        tx.exec_params("SELECT count(*) FROM legacy_snapshot_rows WHERE table_name = $1", label)[0][0].as<std::int64_t>();
    if (!rows.empty()) {
      report.ok = false;
      report.failures.push_back(std::to_string(rows[0][2].as<std::int64_t>()) + " legacy row(s) of \"" + label +
                                "\" missing or changed");
      for (const auto& r : rows) {
        report.changed_rows.push_back("\"" + label + "\" " + (label == "app_users" ? "tech_id=" : "id=") +
                                      r[0].as<std::string>() + (r[1].as<bool>() ? " missing" : " changed"));
      }
    }
  }
  if (upgraded) {
    report.unlinked_rows_with_contact =
        tx.exec("SELECT count(*) FROM \"VC Usage\" v JOIN companies c ON c.id = v.company_id "
                "WHERE v.customer_id IS NULL AND (normalize_email(v.customer_email) IS NOT NULL "
                "OR normalize_phone(v.customer_phone, c.default_country_code) IS NOT NULL)")[0][0]
            .as<std::int64_t>();
    if (report.unlinked_rows_with_contact > 0) {
      report.ok = false;
      report.failures.push_back(std::to_string(report.unlinked_rows_with_contact) +
                                " chat row(s) with an email or phone are not linked to a customer (rows with an open sync failure: see below; the others: run `backfill`)");
    }
    report.metrics_drift_rows =
        tx.exec("SELECT count(*) FROM companies c CROSS JOIN LATERAL customer_metrics_drift(c.id) d")[0][0]
            .as<std::int64_t>();
    if (report.metrics_drift_rows > 0) {
      report.ok = false;
      report.failures.push_back(std::to_string(report.metrics_drift_rows) +
                                " stored metric row(s) differ from a recomputation (rebuild_customer_metrics)");
    }
    report.customers_without_company =
        tx.exec("SELECT count(*) FROM customers WHERE company_id IS NULL")[0][0].as<std::int64_t>();
    if (report.customers_without_company > 0) {
      report.ok = false;
      report.failures.push_back(std::to_string(report.customers_without_company) + " customer(s) without a company");
    }
    {
      const auto shared = tx.exec(kSharedEmails)[0];
      report.shared_emails = shared[0].as<std::int64_t>();
      if (report.shared_emails > 0) {
        report.ok = false;
        report.failures.push_back(std::to_string(report.shared_emails) +
                                  " email(s) held by more than one active customer of a company, e.g. " +
                                  shared[1].as<std::string>() +
                                  ": review and merge them (tradesphere duplicates --company SLUG, then merge)");
      }
    }
    // Chat rows stored but not linked because the sync failed (or is paused): never
    // an upgrade that silently links nothing. Named by cause.
    for (const auto& r : tx.exec(kOpenFailureCauses)) {
      const auto rows = r[3].as<std::int64_t>();
      report.open_sync_failures += rows;
      report.sync_failure_causes.push_back({{"reason", r[0].as<std::string>()},
                                            {"sqlstate", r[1].as<std::string>()},
                                            {"message", r[2].is_null() ? "" : r[2].as<std::string>()},
                                            {"rows", rows}});
    }
    if (report.open_sync_failures > 0) {
      report.ok = false;
      std::string causes;
      for (const auto& c : report.sync_failure_causes) {
        causes += "\n    " + std::to_string(c["rows"].get<std::int64_t>()) + " row(s): " +
                  c["reason"].get<std::string>() +
                  (c["sqlstate"].get<std::string>().empty() ? "" : " SQLSTATE " + c["sqlstate"].get<std::string>()) +
                  ": " + c["message"].get<std::string>();
      }
      report.failures.push_back(std::to_string(report.open_sync_failures) +
                                " chat row(s) are not linked because the sync failed (chat_sync_failures); fix the "
                                "cause, then `tradesphere sync resume` retries them:" + causes);
    }
    for (const auto& r : tx.exec("SELECT coalesce(tech_id, '(none)'), count(*) FROM vc_usage_quarantine "
                                 "WHERE resolved_at IS NULL GROUP BY 1 ORDER BY 1")) {
      report.quarantine.push_back({{"tech_id", r[0].as<std::string>()}, {"rows", r[1].as<std::int64_t>()}});
    }
  }
  return report;
}

nlohmann::json VerifyReport::to_json() const {
  return {{"ok", ok},
          {"failures", failures},
          {"changed_rows", changed_rows},
          {"legacy_rows_checked", legacy_rows_checked},
          {"unlinked_rows_with_contact", unlinked_rows_with_contact},
          {"metrics_drift_rows", metrics_drift_rows},
          {"customers_without_company", customers_without_company},
          {"shared_emails", shared_emails},
          {"open_sync_failures", open_sync_failures},
          {"sync_failure_causes", sync_failure_causes},
          {"quarantine", quarantine}};
}

std::string VerifyReport::to_text() const {
  std::ostringstream out;
  out << (ok ? "VERIFY OK" : "VERIFY FAILED") << "\n";
  out << "  legacy rows checked against the snapshot: " << legacy_rows_checked << "\n";
  out << "  chat rows with email/phone not linked:    " << unlinked_rows_with_contact << "\n";
  out << "  metric rows differing from recomputation: " << metrics_drift_rows << "\n";
  out << "  customers without a company:              " << customers_without_company << "\n";
  out << "  emails on more than one active customer:  " << shared_emails << "\n";
  out << "  chat rows with an open sync failure:      " << open_sync_failures << "\n";
  out << "  quarantined chat rows (unknown tech_id):  ";
  if (quarantine.empty()) out << "none";
  for (const auto& q : quarantine) out << q["tech_id"].get<std::string>() << " (" << q["rows"] << ") ";
  out << "\n";
  for (const auto& f : failures) out << "FAIL: " << f << "\n";
  for (const auto& r : changed_rows) out << "  " << r << "\n";
  return out.str();
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

std::int64_t resume_chat_sync(const std::string& admin_url, const std::optional<std::string>& company_id) {
  pqxx::connection conn(admin_url);
  pqxx::work tx(conn);
  if (company_id) {
    tx.exec_params("SELECT set_chat_sync_paused($1::uuid, false)", *company_id);
  } else {
    tx.exec("SELECT set_chat_sync_paused(NULL, false)");
    // A company-level pause stays until resumed for that company; the global resume only lifts the global switch.
  }
  tx.commit();
  pqxx::work relink(conn);
  std::int64_t linked = 0;
  auto companies = company_id ? relink.exec_params("SELECT $1::uuid", *company_id) : relink.exec("SELECT id FROM companies");
  for (const auto& c : companies) {
    linked += relink.exec_params("SELECT retry_chat_sync($1::uuid, 1000000)", c[0].as<std::string>())[0][0].as<std::int64_t>();
  }
  relink.commit();
  return linked;
}

void forget_backfill_progress(const std::string& admin_url) {
  pqxx::connection conn(admin_url);
  pqxx::work tx(conn);
  for (const char* table : {"backfill_checkpoint", "backfill_company_checkpoint"})
    if (table_exists(tx, table)) tx.exec(std::string("DELETE FROM ") + table);
  tx.commit();
}

std::vector<std::string> export_new_schema_data(const std::string& admin_url, const std::string& directory) {
  namespace fs = std::filesystem;
  fs::create_directories(directory);
  pqxx::connection conn(admin_url);
  pqxx::read_transaction tx(conn);
  utc(tx);
  std::vector<std::string> files;
  const std::vector<std::pair<std::string, std::string>> exports = {
      {"customers", "SELECT row_to_json(t)::text FROM customers t ORDER BY t.id"},
      {"customer_events", "SELECT row_to_json(t)::text FROM customer_events t"},
      {"customer_merge_log", "SELECT row_to_json(t)::text FROM customer_merge_log t"},
      {"customer_audit_log", "SELECT row_to_json(t)::text FROM customer_audit_log t"},
      {"duplicate_dismissals", "SELECT row_to_json(t)::text FROM duplicate_dismissals t"},
      {"vc_usage_links",
       "SELECT json_build_object('id', id, 'company_id', company_id, 'customer_id', customer_id)::text "
       "FROM \"VC Usage\" WHERE company_id IS NOT NULL ORDER BY id"},
      {"companies", "SELECT row_to_json(t)::text FROM companies t"},
      {"app_users", "SELECT row_to_json(t)::text FROM app_users t"},
  };
  for (const auto& [name, sql] : exports) {
    std::string table = name == "vc_usage_links" ? "VC Usage" : name;
    if (!table_exists(tx, "\"" + table + "\"")) continue;
    auto path = (fs::path(directory) / (name + ".jsonl")).string();
    std::ofstream out(path);
    for (const auto& r : tx.exec(sql)) out << r[0].c_str() << "\n";
    if (!out) throw MigrationError("cannot write " + path);
    files.push_back(path);
  }
  return files;
}

}  // namespace tradesphere::db
