#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "common/allocator.hpp"
#include "common/json_log.hpp"
#include "common/periodic_task.hpp"
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
  serve->add_option("--max-connections", options->max_connections,
                    "Open connections at most; over it a new one gets 503 and is closed")
      ->envname("TRADESPHERE_MAX_CONNECTIONS")
      ->capture_default_str();
  serve->add_option("--max-body-bytes", options->max_body_bytes, "Largest request body (larger: 413)")
      ->envname("TRADESPHERE_MAX_BODY_BYTES")
      ->capture_default_str();
  // Timeouts in milliseconds (CLI11 has no duration type); applied in the callback.
  struct TimeoutsMs {
    long header = 10'000, body = 30'000, idle = 60'000, drain = 20'000;
  };
  auto timeouts = std::make_shared<TimeoutsMs>();
  auto add_timeout = [serve](const char* flag, long& field, const char* env, const char* help, long min) {
    serve->add_option(flag, field, help)->envname(env)->check(CLI::Range(min, 3'600'000L))->capture_default_str();
  };
  add_timeout("--header-timeout-ms", timeouts->header, "TRADESPHERE_HEADER_TIMEOUT_MS",
              "Time to send a whole request head", 1);
  add_timeout("--body-timeout-ms", timeouts->body, "TRADESPHERE_BODY_TIMEOUT_MS", "Time to send a request body", 1);
  add_timeout("--idle-timeout-ms", timeouts->idle, "TRADESPHERE_IDLE_TIMEOUT_MS",
              "Keep-alive connection without a request is closed after", 1);
  add_timeout("--drain-timeout-ms", timeouts->drain, "TRADESPHERE_DRAIN_TIMEOUT_MS",
              "On SIGTERM, in-flight requests get this long", 0);
  auto migrate_first = std::make_shared<bool>(false);
  serve->add_flag("--migrate", *migrate_first, "Apply pending migrations before serving");
  serve->callback([&g, options, migrate_first, timeouts] {
    http::block_stop_signals();  // before the pool's and the queue worker's threads exist
    options->header_timeout = std::chrono::milliseconds(timeouts->header);
    options->body_timeout = std::chrono::milliseconds(timeouts->body);
    options->idle_timeout = std::chrono::milliseconds(timeouts->idle);
    options->drain_timeout = std::chrono::milliseconds(timeouts->drain);
    common::keep_freed_memory_for_reuse();  // before any thread starts: see common/allocator.hpp
    options->database = db::resolve_database(g.database());
    if (*migrate_first) {
      db::MigrationRunner(options->database.admin_url).up();
    }
    // The library the routes call, and the token signing secret (generated once).
    options->services = http::make_api_services(options->database.app_url, options->threads);
    options->jwt_secret = http::load_or_create_jwt_secret(g.data_dir);
    services::DuplicateQueueWorker duplicate_queue(*options->services->database, std::chrono::seconds(2),
                                                  options->services->merges->group_cache());  // stops with the server
    // Ended console sign-ins (codes, sessions) are deleted a day after they end (migration 0026).
    common::PeriodicTask purge_console_sign_ins("console_purge", std::chrono::hours(1),
                                               [services = options->services] { http::purge_ended_console_sign_ins(*services); });
    int rc = http::serve_until_signal(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tradesphere::cli
