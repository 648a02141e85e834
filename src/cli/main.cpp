// tradesphere: the one executable. Each subcommand lives in src/cli/*_command(s).cpp.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "common/json_log.hpp"

int main(int argc, char** argv) {
  using namespace tradesphere;
  CLI::App app{"TradeSphere Customers: customer records kept in step with chat conversations"};
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

  cli::register_db_commands(app, global);
  cli::register_migrate_commands(app, global);
  cli::register_serve_command(app, global);
  cli::register_upgrade_commands(app, global);
  cli::register_company_commands(app, global);
  cli::register_import_command(app, global);
  cli::register_export_command(app, global);
  cli::register_duplicates_commands(app, global);
  cli::register_token_command(app, global);
  cli::register_user_commands(app, global);
  cli::register_console_link_command(app, global);

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
