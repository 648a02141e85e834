// `migrate adopt`: classify the legacy shape, record the normalization plan, mark
// the baseline applied and snapshot the legacy rows (docs/upgrade.md, "Before").
#include <algorithm>
#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "db/legacy_normalization.hpp"
#include "db/legacy_upgrade.hpp"
#include "db/legacy_upgrade_internal.hpp"
#include "db/migrations.hpp"

namespace tradesphere::db {
namespace {

// The snapshot is the one part of the upgrade's bookkeeping that is not created by
// a migration (the backfill checkpoints are: migration 0036). It is a copy of the
// legacy *user data* taken before any migration runs (adopt records version 1 only
// after it), and it must outlive every migration: `migrate down --to 1` rolls back
// 0002–0036 and `verify` then compares the legacy tables with it. A migration's
// table would be dropped by that rollback (or, as 0001, could not be one: 0001 is
// the legacy baseline that adopt marks applied without running). So adopt creates
// it, and it stays until the operator drops it (docs/upgrade.md, "Roll back").
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
))sql";

}  // namespace

AdoptResult adopt_legacy_database(const std::string& admin_url) {
  MigrationRunner runner(admin_url);
  if (runner.has_history()) {
    throw MigrationError("this database already has migration history: nothing to adopt (use `migrate up`)");
  }
  AdoptResult result;
  // One transaction: the plan recorded is the one of the shape analysed. A blocking
  // difference throws before anything is written, and the transaction is rolled back.
  pqxx::connection conn(admin_url);
  pqxx::work tx(conn);
  const auto diffs = analyze_legacy_shape(tx);
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
  result.differences = diffs;
  legacy::utc(tx);
  tx.exec(kCreateSnapshotTables);
  record_legacy_normalization_plan(tx, diffs);
  tx.exec("TRUNCATE legacy_snapshot, legacy_snapshot_rows");
  for (const auto& t : legacy::legacy_tables()) {
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
  runner.mark_applied_without_running(kLegacyBaselineVersion);
  return result;
}

std::vector<std::string> legacy_shape_differences(const std::string& admin_url) {
  pqxx::connection conn(admin_url);
  pqxx::read_transaction tx(conn);
  std::vector<std::string> out;
  for (const auto& d : analyze_legacy_shape(tx)) out.push_back(d.text());
  return out;
}

}  // namespace tradesphere::db
