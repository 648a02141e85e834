// What happens to one HTTP request once the transport has read it: routing,
// authentication, roles, Idempotency-Key, the handler, problem+json, metrics and
// the access log. Independent of the socket code (server.cpp), so the transport
// can change without touching the API's behaviour.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.hpp"
#include "http/api.hpp"
#include "http/console_assets.hpp"
#include "http/server.hpp"

namespace tradesphere::http {

struct WireRequest {
  std::string method;  // as sent
  std::string target;  // raw request-target ("/v1/customers?limit=5")
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  std::optional<std::string> header(std::string_view lower_name) const;
};

struct WireResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type included when there is a body
  std::string body;
  bool close = false;  // the transport closes the connection after writing
  // Set: `body` is empty and the transport sends the body in chunks (Transfer-Encoding:
  // chunked), calling this on a worker thread for each one (http/api.hpp, BodyStream).
  BodyStream body_stream;
};

// tradesphere_http_unavailable_total{cause}: every 503, by why. Causes: database
// (pool wait or statement timeout, connection lost), not_ready (/readyz),
// connection_limit, queue_full, tenant_queue_full, queue_timeout, stopping.
common::Counter& unavailable_counter(const std::string& cause);

class Dispatcher {
 public:
  // Registers the routes; `options` must outlive the dispatcher.
  explicit Dispatcher(const ServerOptions& options);

  // Answers one request (never throws).
  WireResponse handle(const WireRequest& request) const;
  // A refusal the transport decides on its own (malformed request 400, body
  // too large 413, header too large 431, overload 503): problem+json, counted
  // and logged like any other response. 503s carry Retry-After and are counted
  // under `cause` in tradesphere_http_unavailable_total.
  WireResponse refuse(const WireRequest& request, int status, const std::string& code, const std::string& detail,
                      const std::string& cause = "") const;

  // The company of a valid bearer token (or console session cookie), "" when there is none (the transport
  // queues work per company; HS256 verification costs microseconds).
  std::string tenant_of(const WireRequest& request) const;
  // True when the route answers from memory (served on the network thread,
  // never queued behind database work): /healthz.
  bool answers_from_memory(const WireRequest& request) const;

  const RouteTable& table() const { return table_; }

 private:
  const ServerOptions& options_;
  RouteTable table_;
  ConsoleAssets console_assets_;  // /console/ (console_assets.hpp); outside the API's route table
};

}  // namespace tradesphere::http
