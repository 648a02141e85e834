// `verify`: the legacy rows against adopt's snapshot, and the new schema's
// invariants (docs/upgrade.md, "Verify").
#include <cstdint>
#include <sstream>
#include <string>

#include <pqxx/pqxx>

#include "db/legacy_upgrade.hpp"
#include "db/legacy_upgrade_internal.hpp"

namespace tradesphere::db {
namespace {

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

constexpr const char* kNoNestedLoops = "SET LOCAL enable_nestloop = off";

}  // namespace

VerifyReport verify_upgrade(const std::string& admin_url) {
  VerifyReport report;
  pqxx::connection conn(admin_url);
  pqxx::read_transaction tx(conn);
  legacy::utc(tx);
  if (!legacy::table_exists(tx, "legacy_snapshot_rows")) {
    report.ok = false;
    report.failures.push_back("no legacy snapshot: this database was not adopted with `migrate adopt`");
    return report;
  }
  const bool upgraded = legacy::new_schema_present(tx);
  // Row-level security predicates (and the parameters of customer_metrics_expected,
  // a SQL function that is never inlined) make the planner expect a handful of rows
  // and pick nested loops: quadratic on 1M chat rows (the snapshot comparison ran
  // > 5 min, the drift check > 11 min, both stopped; with hash and merge joins they
  // take 3 s and 10 s). Every check here joins large sets.
  tx.exec(kNoNestedLoops);
  for (const auto& t : legacy::legacy_tables()) {
    std::string label = t.label;
    std::string current = std::string("SELECT ") + t.key + " AS row_key, " + t.hash + " AS row_hash FROM " + t.name + " t";
    if (!t.values_checked && upgraded && legacy::table_exists(tx, "legacy_customers_quarantine")) {
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
    // The Overview's and /metrics' stage counts (migration 0049; absent before it).
    if (!tx.exec("SELECT to_regprocedure('customer_stage_count_drift(uuid)') IS NULL")[0][0].as<bool>()) {
      report.stage_count_drift_rows =
          tx.exec("SELECT count(*) FROM companies c CROSS JOIN LATERAL customer_stage_count_drift(c.id) d")[0][0]
              .as<std::int64_t>();
      if (report.stage_count_drift_rows > 0) {
        report.ok = false;
        report.failures.push_back(std::to_string(report.stage_count_drift_rows) +
                                  " stored stage count(s) differ from a recount of the active customers "
                                  "(SELECT customer_stage_counts_rebuild(id) FROM companies)");
      }
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
    for (const auto& r : tx.exec(legacy::kOpenFailureCauses)) {
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
          {"stage_count_drift_rows", stage_count_drift_rows},
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
  out << "  stage counts differing from a recount:    " << stage_count_drift_rows << "\n";
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

}  // namespace tradesphere::db
