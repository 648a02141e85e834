#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "common/json_log.hpp"
#include "db/migrations.hpp"
#include "http/api_services.hpp"
#include "http/jwt.hpp"
#include "http/server.hpp"
#include "services/duplicate_queue_worker.hpp"

namespace tradesphere::cli {

void register_serve_command(CLI::App& app, GlobalOptions& g) {
  auto* serve = app.add_subcommand("serve", "Serve the HTTP API (starts the embedded database when needed)");
  auto options = std::make_shared<http::ServerOptions>();
  serve->add_option("--host", options->host, "Address to listen on")->envname("TRADESPHERE_HOST")->capture_default_str();
  serve->add_option("--port", options->port, "Port to listen on (0 = any free port)")
      ->envname("TRADESPHERE_PORT")
      ->capture_default_str();
  serve->add_option("--threads", options->threads, "HTTP worker threads")
      ->envname("TRADESPHERE_HTTP_THREADS")
      ->capture_default_str();
  auto migrate_first = std::make_shared<bool>(false);
  serve->add_flag("--migrate", *migrate_first, "Apply pending migrations before serving");
  serve->callback([&g, options, migrate_first] {
    http::block_stop_signals();  // before the pool's and the queue worker's threads exist
    options->database = db::resolve_database(g.database());
    if (*migrate_first) {
      db::MigrationRunner(options->database.admin_url).up();
    }
    // The library the routes call, and the token signing secret (generated once).
    options->services = http::make_api_services(options->database.app_url, options->threads);
    options->jwt_secret = http::load_or_create_jwt_secret(g.data_dir);
    services::DuplicateQueueWorker duplicate_queue(*options->services->database);  // stops with the server
    int rc = http::serve_until_signal(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tradesphere::cli
