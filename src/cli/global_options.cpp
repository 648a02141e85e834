#include "cli/commands.hpp"

#include <iostream>

#include "common/json_log.hpp"

namespace tradesphere::cli {

db::DatabaseOptions GlobalOptions::database() const {
  auto o = db::database_options_from_env();
  o.data_dir = data_dir;
  if (db_port) o.db_port = db_port;
  return o;
}

void add_global_options(CLI::App& app, GlobalOptions& global) {
  // CLI11's own version flag prints no newline after the version.
  app.add_flag_callback(
      "--version",
      [] {
        std::cout << TRADESPHERE_VERSION << "\n";
        throw CLI::Success();
      },
      "Print the version and exit")
      ->trigger_on_parse();
  app.require_subcommand(1);
  app.add_option("--data-dir", global.data_dir, "Data folder of the embedded database and generated secrets")
      ->envname("TRADESPHERE_DATA_DIR")
      ->capture_default_str();
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error")
      ->envname("TRADESPHERE_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--db-port", global.db_port, "Port of the embedded database (default: a free port chosen once)")
      ->envname("TRADESPHERE_DB_PORT");
  app.parse_complete_callback([&global] { common::init_logging(global.log_level); });
}

int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace tradesphere::cli
