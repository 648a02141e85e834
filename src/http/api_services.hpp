// What the HTTP routes call: the database and the library's services (never a
// repository: services own the transactions), built once per process (serve_command) or per test.
#pragma once

#include <memory>
#include <string>

namespace tradesphere::db {
struct PoolOptions;
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {
class IdempotencyService;
class CustomerCrudService;
class ConsoleSessionService;
class CustomerSyncService;
class CustomerLifecycleService;
class CustomerMergeService;
class CustomerEnrichmentService;
class CustomerExportService;
class CustomerImportService;
class BusinessGauges;
class OverviewService;
}  // namespace tradesphere::services

namespace tradesphere::http {

struct ApiServices {
  std::shared_ptr<db::Database> database;
  std::shared_ptr<services::IdempotencyService> idempotency;
  std::shared_ptr<services::CustomerCrudService> customers;
  std::shared_ptr<services::CustomerSyncService> sync;
  std::shared_ptr<services::CustomerLifecycleService> lifecycle;
  std::shared_ptr<services::CustomerMergeService> merges;
  std::shared_ptr<services::CustomerEnrichmentService> enrichment;
  std::shared_ptr<services::CustomerExportService> exports;  // GET /v1/customers/export (CSV, streamed)
  std::shared_ptr<services::CustomerImportService> imports;  // POST /v1/customers/import (CSV)
  std::shared_ptr<services::OverviewService> overview;  // GET /v1/overview (the console's Overview)
  std::shared_ptr<services::BusinessGauges> gauges;  // /metrics: stage distribution, duplicate rate
  std::shared_ptr<services::ConsoleSessionService> console_sessions;  // console sign-in and cookie sessions
};

// Opens a pool of `pool_size` connections (lazily) to app_url and builds every
// service on it.
// The pool has one connection per HTTP worker thread (pass `threads`), so a request
// never waits for a connection another request holds; were it smaller, a request
// would wait at most PoolOptions::acquire_timeout and then answer 503.
std::shared_ptr<ApiServices> make_api_services(const std::string& app_url, int pool_size);
// Same with every pool option (statement_timeout, acquire_timeout): for tests.
std::shared_ptr<ApiServices> make_api_services(const db::PoolOptions& pool);

// Deletes the console sign-in codes and sessions that ended more than a day ago
// (migration 0026) and logs how many; `serve` runs it every hour.
void purge_ended_console_sign_ins(ApiServices& services);

}  // namespace tradesphere::http
