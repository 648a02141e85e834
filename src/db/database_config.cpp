#include "db/database_config.hpp"

#include <cstdlib>

#include "db/embedded_cluster.hpp"

namespace tradesphere::db {
namespace {
std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}
}  // namespace

DatabaseOptions database_options_from_env() {
  DatabaseOptions o;
  if (auto v = env("TRADESPHERE_DATA_DIR")) o.data_dir = *v;
  if (auto v = env("TRADESPHERE_DB_PORT")) o.db_port = std::stoi(*v);
  o.database_url = env("DATABASE_URL");
  o.database_admin_url = env("DATABASE_ADMIN_URL");
  return o;
}

DatabaseTarget resolve_database(const DatabaseOptions& options, bool ensure_running) {
  if (options.database_url) {
    return DatabaseTarget{*options.database_url, options.database_admin_url.value_or(*options.database_url), false};
  }
  EmbeddedCluster cluster(ClusterOptions{options.data_dir, options.db_port, false});
  if (ensure_running) cluster.start();
  return DatabaseTarget{cluster.url(ClusterRole::kApp), cluster.url(ClusterRole::kOwner), true};
}

}  // namespace tradesphere::db
