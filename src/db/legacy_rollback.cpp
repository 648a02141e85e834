// Rolling back below the new schema (`migrate down --to 1`, docs/upgrade.md "Roll
// back"): export what the legacy shape cannot hold, forget the backfill's progress.
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "db/legacy_upgrade.hpp"
#include "db/legacy_upgrade_internal.hpp"
#include "db/migrations.hpp"

namespace tradesphere::db {

void forget_backfill_progress(const std::string& admin_url) {
  pqxx::connection conn(admin_url);
  pqxx::work tx(conn);
  for (const char* table : {"backfill_checkpoint", "backfill_company_checkpoint"})
    if (legacy::table_exists(tx, table)) tx.exec(std::string("DELETE FROM ") + table);
  tx.commit();
}

std::vector<std::string> export_new_schema_data(const std::string& admin_url, const std::string& directory) {
  namespace fs = std::filesystem;
  fs::create_directories(directory);
  pqxx::connection conn(admin_url);
  pqxx::read_transaction tx(conn);
  legacy::utc(tx);
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
    if (!legacy::table_exists(tx, "\"" + table + "\"")) continue;
    auto path = (fs::path(directory) / (name + ".jsonl")).string();
    std::ofstream out(path);
    for (const auto& r : tx.exec(sql)) out << r[0].c_str() << "\n";
    if (!out) throw MigrationError("cannot write " + path);
    files.push_back(path);
  }
  return files;
}

}  // namespace tradesphere::db
