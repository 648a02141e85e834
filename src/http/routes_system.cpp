// Unauthenticated operational routes: liveness, readiness, metrics, the API description.
#include "common/metrics.hpp"
#include "db/migrations.hpp"
#include "http/routes.hpp"

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

  table.add({"GET", "/metrics", Access::kPublic, [](ApiRequest&) {
               ApiResponse r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               r.raw_body = common::metrics().render_prometheus();
               return r;
             }});

  table.add({"GET", "/openapi.json", Access::kPublic, [](ApiRequest&) {
               ApiResponse r;
               r.raw_body = openapi_document();
               return r;
             }});
}

}  // namespace tradesphere::http
