// The OpenAPI 3.1 description served at /openapi.json is the data file
// api/openapi.json, embedded into the binary at build time
// (cmake/embed_file.cmake, like the migrations) and served byte for byte.
//
// The file states per operation what the route table also knows; the two are kept
// identical by openapi_route_mismatches() (tests/http/protocol_httptest.cpp and
// the log line below) rather than by generating one from the other:
//   - every registered route is documented and every documented operation is served;
//   - every operation has a unique operationId and at least one 4xx response;
//   - public routes: "security": [] (no token); others: "x-required-role" is the
//     route's role, 401 is documented, and 403 too unless a viewer may call it;
//   - every {name} in the path has its "in": "path" parameter;
//   - the Idempotency-Key parameter exactly on the routes that honour it.
// Add a route and its operation together; lint with scripts/lint-openapi.
#include <map>
#include <regex>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_log.hpp"
#include "domain/normalize.hpp"
#include "http/routes.hpp"

namespace tradesphere::http {

std::string_view embedded_openapi_json();  // generated from api/openapi.json

namespace {

using json = nlohmann::json;

// A "$ref": "#/…" inside the document, resolved (one level); the value itself otherwise.
const json& resolve(const json& doc, const json& value) {
  if (value.is_object() && value.contains("$ref") && value["$ref"].is_string()) {
    const std::string ref = value["$ref"];
    if (ref.rfind("#/", 0) == 0) {
      const json::json_pointer ptr(ref.substr(1));
      if (doc.contains(ptr)) return doc.at(ptr);
    }
  }
  return value;
}

void check_operation(const json& doc, const json& op, const Route& route, std::vector<std::string>& out) {
  const std::string where = route.method + " " + route.pattern + ": ";
  if (!op.contains("operationId") || !op["operationId"].is_string()) out.push_back(where + "no operationId");

  const json empty = json::object();
  const json& responses = op.contains("responses") ? op["responses"] : empty;
  bool has_4xx = false;
  for (const auto& [code, r] : responses.items()) has_4xx |= !code.empty() && code[0] == '4';
  if (!has_4xx) out.push_back(where + "no 4xx response");

  const bool public_security = op.contains("security") && op["security"] == json::array();
  if (route.access == Access::kPublic) {
    if (!public_security) out.push_back(where + "public route without \"security\": []");
  } else {
    if (public_security) out.push_back(where + "needs a token but is documented as public");
    if (op.value("x-required-role", std::string()) != to_string(route.access)) {
      out.push_back(where + "x-required-role is not " + std::string(to_string(route.access)));
    }
    if (!responses.contains("401")) out.push_back(where + "no 401 response");
    if (route.access != Access::kViewer && !responses.contains("403")) out.push_back(where + "no 403 response");
  }

  std::set<std::string> path_params;
  bool idempotency_key = false;
  if (op.contains("parameters")) {
    for (const auto& raw : op["parameters"]) {
      const json& p = resolve(doc, raw);
      const std::string in = p.value("in", "");
      const std::string name = p.value("name", "");
      if (in == "path") path_params.insert(name);
      if (in == "header" && name == "Idempotency-Key") idempotency_key = true;
    }
  }
  static const std::regex kPathParam(R"(\{([^}]+)\})");
  std::set<std::string> expected;
  for (auto it = std::sregex_iterator(route.pattern.begin(), route.pattern.end(), kPathParam);
       it != std::sregex_iterator(); ++it) {
    expected.insert((*it)[1]);
  }
  if (path_params != expected) out.push_back(where + "path parameters do not match the path");
  if (idempotency_key != route.idempotency_key) {
    out.push_back(where + (route.idempotency_key ? "honours Idempotency-Key but does not document it"
                                                 : "documents Idempotency-Key but does not honour it"));
  }
}

}  // namespace

std::string_view openapi_text() { return embedded_openapi_json(); }

std::vector<std::string> openapi_route_mismatches(const RouteTable& table) {
  std::vector<std::string> out;
  const json doc = json::parse(embedded_openapi_json(), nullptr, false);
  if (!doc.is_object() || !doc.contains("paths") || !doc["paths"].is_object()) return {"api/openapi.json: not a document"};

  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& route : table.routes()) {
    registered.emplace(domain::to_lower_ascii(route.method), route.pattern);
    const std::string method = domain::to_lower_ascii(route.method);
    if (!doc["paths"].contains(route.pattern) || !doc["paths"][route.pattern].contains(method)) {
      out.push_back(route.method + " " + route.pattern + ": served but not documented");
      continue;
    }
    check_operation(doc, doc["paths"][route.pattern][method], route, out);
  }
  std::map<std::string, int> operation_ids;
  static const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.count(method)) continue;
      if (!registered.count({method, path})) out.push_back(method + " " + path + ": documented but not served");
      if (op.contains("operationId") && op["operationId"].is_string()) ++operation_ids[op["operationId"]];
    }
  }
  for (const auto& [id, n] : operation_ids) {
    if (n > 1) out.push_back("operationId " + id + " is used " + std::to_string(n) + " times");
  }
  return out;
}

std::string openapi_document(const RouteTable& table) {
  for (const auto& m : openapi_route_mismatches(table)) {
    common::log(spdlog::level::err, "openapi.route_mismatch", {{"detail", m}});
  }
  return std::string(embedded_openapi_json());
}

}  // namespace tradesphere::http
