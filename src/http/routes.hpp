// Route modules: each registers its routes in the table. Handlers stay thin:
// parse → service call → JSON. Internal to src/http.
#pragma once

#include <string>

#include "http/api.hpp"
#include "http/api_services.hpp"
#include "http/server.hpp"

namespace tradesphere::http {

// /healthz, /readyz, /metrics, /openapi.json
void register_system_routes(RouteTable& table, const ServerOptions& options);
// /v1/... (each module only registers what the library provides)
void register_v1_routes(RouteTable& table, ApiServices& services);

// The OpenAPI 3.1 document served at /openapi.json (openapi.cpp): the hand-written
// operations completed with what the route table says (roles, path parameters,
// Idempotency-Key, the shared error responses).
std::string openapi_document(const RouteTable& table);

}  // namespace tradesphere::http
