// tradesphere-dev: development data for tests, benchmarks and demos (tools/devdata).
//   tradesphere-dev seed --customers 100000 --seed 42
//   tradesphere-dev evaluate-duplicates --people 5000
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/json_log.hpp"
#include "devdata/commands.hpp"

int main(int argc, char** argv) {
  using namespace tradesphere;
  CLI::App app{"TradeSphere Customers development data: seed a database, measure duplicate detection"};
  app.add_flag_callback(
      "--version",
      [] {
        std::cout << TRADESPHERE_VERSION << "\n";
        throw CLI::Success();
      },
      "Print the version and exit")
      ->trigger_on_parse();
  app.require_subcommand(1);

  cli::GlobalOptions global;
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

  devdata::register_seed_command(app, global);
  devdata::register_evaluate_duplicates_command(app);

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
