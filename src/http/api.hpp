// The HTTP layer's own request/response model and route table. No Beast type
// appears here: dispatcher.cpp adapts the wire request to these, the route modules
// (routes_*.cpp) only see ApiRequest/ApiResponse.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/request_context.hpp"

namespace tradesphere::http {

// Who may call a route. kPublic needs no token.
enum class Access { kPublic, kViewer, kAgent, kAdmin };
const char* to_string(Access access) noexcept;

inline constexpr std::size_t kMaxJsonDepth = 32;

struct ApiRequest {
  std::string method;
  std::string path;
  std::string route;  // the matched template, e.g. /v1/customers/{id}
  std::map<std::string, std::string> path_params;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names (only those the API reads)
  std::string body;
  domain::RequestContext ctx;

  const std::string& param(const std::string& name) const;
  std::optional<std::string> header(const std::string& lower_name) const;
  // The Content-Type's media type: lower-case, without parameters or spaces ("" when absent).
  std::string media_type() const;
  // Body as JSON: requires Content-Type application/json (415), parses strictly
  // (parse_json_strict, 400). An empty body is 400 ("a JSON body is required").
  nlohmann::json json_body() const;
  // Query parameters as a map; a repeated name → 400, a name outside `allowed` → 400.
  std::map<std::string, std::string> query_map(const std::vector<std::string>& allowed) const;
  // Same, without an allow-list (the callee validates the names).
  std::map<std::string, std::string> query_map() const;
  // If-Match version ("3", "\"3\"", W/"3"); nullopt when absent; 400 when unparsable.
  std::optional<int> if_match_version() const;
};

// A response body produced piece by piece (HTTP/1.1 chunked transfer encoding):
// called on a worker thread once the head is written, again after each piece was
// written, never concurrently; returns the next piece, "" at the end. An exception
// aborts the response: the connection is closed without the last chunk, so the
// client sees an incomplete body, never a short one passed off as complete.
using BodyStream = std::function<std::string()>;

struct ApiResponse {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::optional<std::string> raw_body;  // sent as is instead of body.dump()
  bool no_content = false;              // 204
  BodyStream body_stream;               // set: the body is streamed (chunked) instead of body/raw_body

  static ApiResponse ok(nlohmann::json body) {
    return ApiResponse{200, std::move(body), {}, "application/json", {}, false, {}};
  }
  static ApiResponse created(nlohmann::json body, std::string location);
  static ApiResponse empty() { ApiResponse r; r.status = 204; r.no_content = true; return r; }
  // Serialized body (invalid UTF-8 replaced, never throws).
  std::string serialized() const;
};

using Handler = std::function<ApiResponse(ApiRequest&)>;

struct Route {
  std::string method;   // GET POST PUT PATCH DELETE
  std::string pattern;  // /v1/customers/{id}; {name} matches one non-empty segment
  Access access = Access::kViewer;
  Handler handler;
  bool idempotency_key = false;  // POST create/merge: honours Idempotency-Key
};

class RouteTable {
 public:
  void add(Route route);

  struct Match {
    const Route* route = nullptr;          // set when path and method match
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;      // methods of routes whose path matches (for 405)
  };
  // Among routes whose pattern matches the path, the one with the most literal
  // segments wins (so /v1/customers/search beats /v1/customers/{id}).
  Match match(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Strict JSON: nlohmann's parser (rejects invalid UTF-8 and lone surrogates)
// plus: nesting deeper than kMaxJsonDepth, a repeated key in one object, and
// U+0000 in any string or key are refused. Throws HttpProblem 400 naming the cause.
nlohmann::json parse_json_strict(const std::string& text);

}  // namespace tradesphere::http
