// tradesphere: the one executable. Each subcommand lives in src/cli/*_command(s).cpp.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace tradesphere;
  CLI::App app{"TradeSphere Customers: customer records kept in step with chat conversations"};
  cli::GlobalOptions global;
  cli::add_global_options(app, global);

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

  return cli::run_app(app, argc, argv);
}
