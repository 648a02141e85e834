#include "db/legacy_upgrade_internal.hpp"

namespace tradesphere::db {

// Helpers shared by the upgrade's parts (legacy_upgrade_internal.hpp).
namespace legacy {

bool table_exists(pqxx::transaction_base& tx, const std::string& name) {
  return !tx.exec_params("SELECT to_regclass($1)", name)[0][0].is_null();
}

void utc(pqxx::transaction_base& tx) { tx.exec("SET TIME ZONE 'UTC'"); }

bool new_schema_present(pqxx::transaction_base& tx) { return table_exists(tx, "customer_metrics"); }

}  // namespace legacy

}  // namespace tradesphere::db
