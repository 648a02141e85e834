// Unauthenticated operational routes: liveness, readiness, metrics, the API description.
#include <memory>
#include <mutex>

#include "common/metrics.hpp"
#include "db/migrations.hpp"
#include "http/api_services.hpp"
#include "http/routes.hpp"
#include "services/business_gauges.hpp"

namespace tradesphere::http {

void register_system_routes(RouteTable& table, const ServerOptions& options) {
  table.add({"GET", "/healthz", Access::kPublic, [](ApiRequest&) { return ApiResponse::ok({{"status", "ok"}}); }});

  const std::string app_url = options.database.app_url;
  table.add({"GET", "/readyz", Access::kPublic, [app_url](ApiRequest&) {
               ApiResponse r;
               try {
                 db::MigrationRunner runner(app_url);
                 int current = runner.current_version();
                 int latest = runner.latest_version();
                 if (current != latest) {
                   r.status = 503;
                   r.body = {{"status", "migrations pending"}, {"current", current}, {"latest", latest}};
                   return r;
                 }
                 r.body = {{"status", "ready"}, {"schema_version", current}};
               } catch (const std::exception&) {
                 r.status = 503;
                 r.body = {{"status", "database unavailable"}};
               }
               return r;
             }});

  // The registry, then the business gauges (cached; services/business_gauges.hpp).
  std::shared_ptr<services::BusinessGauges> gauges = options.services ? options.services->gauges : nullptr;
  table.add({"GET", "/metrics", Access::kPublic, [gauges](ApiRequest&) {
               ApiResponse r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               std::string text = common::metrics().render_prometheus();
               if (gauges) text += gauges->render_prometheus();
               r.raw_body = std::move(text);
               return r;
             }});

  // Built on first use, when every route is registered (the table outlives its handlers).
  struct OpenApiCache {
    std::once_flag once;
    std::string text;
  };
  auto openapi = std::make_shared<OpenApiCache>();
  const RouteTable* routes = &table;
  table.add({"GET", "/openapi.json", Access::kPublic, [openapi, routes](ApiRequest&) {
               std::call_once(openapi->once, [&] { openapi->text = openapi_document(*routes); });
               ApiResponse r;
               r.raw_body = openapi->text;
               return r;
             }});
}

}  // namespace tradesphere::http
