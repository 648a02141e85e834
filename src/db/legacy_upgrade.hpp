// Adopting a live legacy database and proving the upgrade lost nothing
// (issue: legacy upgrade; docs/upgrade.md is the operator's runbook).
//
// All operations run as the schema owner (DATABASE_ADMIN_URL), whose
// `owner_maintenance` policies let it see every company's rows.
//
// Implemented in legacy_adopt.cpp (adopt and its snapshot), legacy_backfill.cpp
// (backfill: one batch loop for one worker or N; sync pause/resume),
// legacy_verify.cpp and legacy_rollback.cpp (export before a rollback, forget the
// backfill's progress); the legacy tables' hashing is in legacy_upgrade_internal.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::db {

// How `migrate adopt` treats one difference between a legacy table and the shape
// of migration 0001 (docs/upgrade.md, "What adopt accepts").
enum class ShapeClass {
  kNormalized,  // `migrate up` fixes it right before 0002; `migrate down --to 1` undoes it exactly
  kKept,        // left as it is and reported (the new schema works with it)
  kBlocking,    // adopt refuses; `fix` says what to change first
};
const char* to_string(ShapeClass c);

struct ShapeDifference {
  ShapeClass kind = ShapeClass::kBlocking;
  std::string subject;  // "customers.id", "\"VC Usage\"", "app_users (primary key)"
  std::string finding;  // "no default (0001: gen_random_uuid())"
  std::string action;   // normalized: what migrate up does; kept: why it is fine; blocking: the fix
  std::string do_sql;   // normalized only: the step, and its exact undo
  std::string undo_sql;
  std::string text() const;  // "customers.id: no default (…) — normalized: …"
};

// Every difference between the database's legacy tables and the shape of
// migration 0001 as text lines ("\"customers\".loyalty: unexpected column (integer) —
// kept: …"), in the order the normalization steps run; one read-only transaction.
std::vector<std::string> legacy_shape_differences(const std::string& admin_url);

struct AdoptResult {
  std::vector<std::pair<std::string, std::int64_t>> rows_per_table;
  std::vector<ShapeDifference> differences;  // normalized and kept ones (blocking ones throw)
};

// Classifies the legacy shape (throws MigrationError listing every difference when
// one is blocking, and changes nothing), records the normalization plan
// (legacy_normalization: one do/undo step per normalized difference), records the
// baseline as applied and snapshots the legacy data (a hash per row over the legacy
// columns cast to the baseline types, and count + checksum per table and company)
// for `verify` and rollback.
AdoptResult adopt_legacy_database(const std::string& admin_url);

struct BackfillOptions {
  int batch = 1000;
  std::optional<double> throttle_rows_per_second;
  std::optional<int> max_batches;  // stop early (tests, dry runs); the checkpoint keeps the place
  int jobs = 1;  // > 1: parallel workers, each owning whole companies (own connection and checkpoints)
  bool row_by_row = false;  // link_chat_row() per row (the path before migration 0035), for comparisons
};

struct BackfillProgress {
  std::int64_t rows_done = 0;    // rows examined in this run
  std::int64_t rows_total = 0;   // rows to examine when this run started
  double rows_per_second = 0;
  double eta_seconds = 0;
};

// Active customers of one company that share a normalized email (a legacy
// database's duplicates: the new schema allows one active customer per email),
// oldest first (created_at, id).
struct SharedEmailGroup {
  std::string company_id;
  std::string email;                      // the normalized email (matching key)
  std::vector<std::string> customer_ids;  // >= 2, the oldest first
};
std::vector<SharedEmailGroup> shared_email_groups(const std::string& admin_url);

struct BackfillReport {
  std::int64_t rows_examined = 0;
  std::int64_t rows_linked = 0;
  std::int64_t customers_created = 0;
  std::int64_t failed = 0;        // examined rows left unlinked by an error (chat_sync_failures)
  std::int64_t orphaned = 0;      // examined rows left without a customer and without an error (no contact data)
  std::int64_t quarantined = 0;   // rows whose tech_id matches no user (open quarantine entries)
  bool finished = false;          // false when stopped by max_batches
  std::int64_t batches_row_by_row = 0;  // batches linked row by row (a row failed, or options.row_by_row)
  // Open chat sync failures after the run, by cause (all rows, not only this run's).
  struct FailureCause {
    std::string reason;    // error, paused, metrics
    std::string sqlstate;  // "" when none
    std::string message;   // one example message of this cause
    std::int64_t rows = 0;
  };
  std::vector<FailureCause> open_failures;
};

// Links every unlinked chat row (with a company) to a customer with the sync
// trigger's own matching, in short transactions of `batch` rows
// (backfill_link_chat_rows(), migration 0035: one batch set-based, with the same
// result as link_chat_row() row by row in id order; a batch in which a row fails
// is linked again row by row, which records the failing rows in
// chat_sync_failures), committing a checkpoint (the last row id) with each batch. Resumable
// after kill -9; running it again after it finished changes nothing.
// With jobs > 1 the companies are shared out among that many workers (largest
// first); each worker links its companies' rows in id order and checkpoints per
// company (backfill_company_checkpoint), so no two workers ever wait on the same
// matching key or session. max_batches then counts the batches of all workers.
BackfillReport backfill_chat_links(const std::string& admin_url, const BackfillOptions& options,
                                   const std::function<void(const BackfillProgress&)>& progress = {});

struct VerifyReport {
  bool ok = true;
  std::vector<std::string> failures;         // human-readable, each names what failed
  std::vector<std::string> changed_rows;     // "VC Usage id=42 changed", first 50
  std::int64_t legacy_rows_checked = 0;
  std::int64_t unlinked_rows_with_contact = 0;
  std::int64_t metrics_drift_rows = 0;
  std::int64_t stage_count_drift_rows = 0;   // (company, stage) whose stored count differs from a recount
  std::int64_t customers_without_company = 0;
  std::int64_t shared_emails = 0;             // normalized emails on more than one active customer of a company
  std::int64_t open_sync_failures = 0;       // chat rows stored but not linked because the sync failed
  std::vector<nlohmann::json> sync_failure_causes;  // reason, sqlstate, message, rows
  std::vector<nlohmann::json> quarantine;    // open quarantine entries (tech_id, rows)
  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Checks the upgrade: legacy rows unchanged against the snapshot; and, when the
// new schema is present, every chat row with an email or phone linked, stored
// metrics and stage counts equal a recomputation, no customer without a company;
// lists the quarantine.
VerifyReport verify_upgrade(const std::string& admin_url);

// `tradesphere sync pause|resume`: company nullopt = every company. Resume lifts the
// pause, then links every row with an open 'error' or 'paused' failure (stored while
// paused, or failed before the cause was fixed) of each company whose sync is not
// paused, in committed batches of the backfill's set-based batch.
struct ResumeReport {
  std::int64_t linked = 0;
  std::int64_t still_failing = 0;  // rows whose open failure remains (the cause is not fixed)
};
void pause_chat_sync(const std::string& admin_url, const std::optional<std::string>& company_id);
ResumeReport resume_chat_sync(const std::string& admin_url, const std::optional<std::string>& company_id);

// `tradesphere quarantine assign`: gives the quarantined chat rows of `tech_id` the
// company (their quarantine entries resolved), then links them in committed batches
// of the backfill's batch (migration 0044). The user should exist first
// (`tradesphere user add`), so that the legacy writer's next rows get the company too.
struct QuarantineAssignReport {
  std::int64_t assigned = 0;
  std::int64_t linked = 0;   // of the assigned rows
  std::int64_t failed = 0;   // of the assigned rows: unlinked with an open sync failure
};
QuarantineAssignReport assign_quarantined_rows(const std::string& admin_url, const std::string& tech_id,
                                              const std::string& company_id);

// Before a rollback below the new schema: writes what the legacy shape cannot
// hold (customers' new fields, events, merges, audit, links) as JSON lines into
// `directory`. Returns the files written.
std::vector<std::string> export_new_schema_data(const std::string& admin_url, const std::string& directory);

// After a rollback below the new schema: forgets the backfill checkpoints. The
// rollback dropped every chat→customer link, so a later upgrade must examine every
// row again (a stale checkpoint would skip them).
void forget_backfill_progress(const std::string& admin_url);

}  // namespace tradesphere::db
