// Registration of the `tradesphere` subcommands. main.cpp only wires these.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "db/database_config.hpp"

namespace tradesphere::cli {

// Options every subcommand shares; filled from flags and environment.
struct GlobalOptions {
  std::string data_dir = "var";
  std::string log_level = "info";
  std::optional<int> db_port;

  db::DatabaseOptions database() const;
};

// What every executable of the project shares (tradesphere, tradesphere-dev):
// --version, the global options, logging set up once they are parsed.
void add_global_options(CLI::App& app, GlobalOptions& global);
// Parses and runs the chosen subcommand: 0, CLI11's exit code for a parse error,
// or 1 with "error: ..." on stderr.
int run_app(CLI::App& app, int argc, char** argv);

void register_db_commands(CLI::App& app, GlobalOptions& global);
void register_migrate_commands(CLI::App& app, GlobalOptions& global);
void register_serve_command(CLI::App& app, GlobalOptions& global);
void register_upgrade_commands(CLI::App& app, GlobalOptions& global);
void register_company_commands(CLI::App& app, GlobalOptions& global);
void register_import_command(CLI::App& app, GlobalOptions& global);
void register_export_command(CLI::App& app, GlobalOptions& global);
void register_duplicates_commands(CLI::App& app, GlobalOptions& global);
void register_token_command(CLI::App& app, GlobalOptions& global);
void register_user_commands(CLI::App& app, GlobalOptions& global);
void register_console_link_command(CLI::App& app, GlobalOptions& global);

}  // namespace tradesphere::cli
