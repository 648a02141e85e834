#include "http/api_services.hpp"

#include <chrono>

#include "db/database.hpp"
#include "services/business_gauges.hpp"
#include "services/console_session_service.hpp"
#include "services/customer_crud_service.hpp"
#include "services/customer_enrichment_service.hpp"
#include "services/customer_export_service.hpp"
#include "services/customer_import_service.hpp"
#include "services/customer_lifecycle_service.hpp"
#include "services/customer_merge_service.hpp"
#include "services/customer_sync_service.hpp"
#include "services/idempotency_service.hpp"
#include "services/overview_service.hpp"

namespace tradesphere::http {

std::shared_ptr<ApiServices> make_api_services(const std::string& app_url, int pool_size) {
  db::PoolOptions pool;
  pool.url = app_url;
  pool.size = pool_size;
  return make_api_services(pool);
}

std::shared_ptr<ApiServices> make_api_services(const db::PoolOptions& pool) {
  auto s = std::make_shared<ApiServices>();
  s->database = std::make_shared<db::Database>(pool);
  auto& db = *s->database;
  s->idempotency = std::make_shared<services::IdempotencyService>(db);
  s->customers = std::make_shared<services::CustomerCrudService>(db);
  s->sync = std::make_shared<services::CustomerSyncService>(db);
  s->lifecycle = std::make_shared<services::CustomerLifecycleService>(db);
  s->merges = std::make_shared<services::CustomerMergeService>(db);
  s->enrichment = std::make_shared<services::CustomerEnrichmentService>(db);
  s->exports = std::make_shared<services::CustomerExportService>(db);
  s->imports = std::make_shared<services::CustomerImportService>(db);
  // reads the merge service's group cache: the Overview shows its group count while it is current
  s->overview = std::make_shared<services::OverviewService>(db, s->merges->group_cache());
  s->gauges = std::make_shared<services::BusinessGauges>(db);
  s->console_sessions = std::make_shared<services::ConsoleSessionService>(db);
  return s;
}

void purge_ended_console_sign_ins(ApiServices& services) {
  services.console_sessions->purge_ended(std::chrono::hours(24));  // logs what it deleted
}

}  // namespace tradesphere::http
