// What the HTTP routes call: the database and the library's repositories and
// services, built once per process (serve_command) or per test.
#pragma once

#include <memory>
#include <string>

namespace tradesphere::db {
class Database;
class IdempotencyStore;
class CustomerRepository;
}  // namespace tradesphere::db

namespace tradesphere::services {
class CustomerSyncService;
class CustomerLifecycleService;
class CustomerMergeService;
class CustomerEnrichmentService;
}  // namespace tradesphere::services

namespace tradesphere::http {

struct ApiServices {
  std::shared_ptr<db::Database> database;
  std::shared_ptr<db::IdempotencyStore> idempotency;
  std::shared_ptr<db::CustomerRepository> customers;
  std::shared_ptr<services::CustomerSyncService> sync;
  std::shared_ptr<services::CustomerLifecycleService> lifecycle;
  std::shared_ptr<services::CustomerMergeService> merges;
  std::shared_ptr<services::CustomerEnrichmentService> enrichment;
};

// Opens a pool of `pool_size` connections (lazily) to app_url and builds every
// repository and service on it.
std::shared_ptr<ApiServices> make_api_services(const std::string& app_url, int pool_size);

}  // namespace tradesphere::http
