// Route modules: each registers its routes in the table. Handlers stay thin:
// parse → service call → JSON. Internal to src/http.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/api.hpp"
#include "http/api_services.hpp"
#include "http/server.hpp"

namespace tradesphere::http {

// /healthz, /readyz, /metrics, /openapi.json
void register_system_routes(RouteTable& table, const ServerOptions& options);
// /v1/... (each module only registers what the library provides)
void register_v1_routes(RouteTable& table, ApiServices& services);

// The OpenAPI 3.1 document served at /openapi.json: api/openapi.json, embedded at
// build time (openapi.cpp). openapi_document() returns it and logs every mismatch
// with the route table (openapi.route_mismatch, at error).
std::string openapi_document(const RouteTable& table);
std::string_view openapi_text();
// What the document says differently from the route table: routes served but not
// documented and the reverse, roles, public security, path parameters,
// Idempotency-Key, operationIds, 4xx responses. Empty when they agree.
std::vector<std::string> openapi_route_mismatches(const RouteTable& table);

}  // namespace tradesphere::http
