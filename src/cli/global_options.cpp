#include "cli/commands.hpp"

namespace tradesphere::cli {

db::DatabaseOptions GlobalOptions::database() const {
  auto o = db::database_options_from_env();
  o.data_dir = data_dir;
  if (db_port) o.db_port = db_port;
  return o;
}

}  // namespace tradesphere::cli
