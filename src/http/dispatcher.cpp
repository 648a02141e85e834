#include "http/dispatcher.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "http/api_services.hpp"
#include "http/console_session.hpp"
#include "http/jwt.hpp"
#include "http/problem.hpp"
#include "http/routes.hpp"
#include "http/url.hpp"
#include "services/console_session_service.hpp"
#include "services/idempotency_service.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::http {

std::optional<std::string> WireRequest::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return std::nullopt;
}

namespace {

// Per-request facts shared by the steps of one exchange.
struct Exchange {
  const WireRequest& request;
  WireResponse response;
  std::string correlation_id;
  std::string route;
  std::string company_id;
  std::string unavailable_cause;  // set by refusals; a handler's 503 is the database's
};

bool valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
  }
  return true;
}

Exchange begin(const WireRequest& request) {
  Exchange ex{request, {}, {}, {}, {}, {}};
  auto given = request.header("x-request-id").value_or("");
  ex.correlation_id = valid_request_id(given) ? given : common::random_hex(16);
  return ex;
}

void set_header(WireResponse& res, const std::string& name, const std::string& value) {
  for (auto& [k, v] : res.headers) {
    if (k == name) {
      v = value;
      return;
    }
  }
  res.headers.emplace_back(name, value);
}

void write_problem(Exchange& ex, const Problem& p) {
  auto& res = ex.response;
  res.status = p.status;
  std::erase_if(res.headers, [](const auto& h) { return h.first == "ETag" || h.first == "Location"; });
  for (const auto& [k, v] : p.headers) set_header(res, k, v);
  set_header(res, "Content-Type", kProblemContentType);
  res.body = problem_body(p, ex.correlation_id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<TokenClaims> bearer_claims(const WireRequest& request, const std::string& secret) {
  const auto header = request.header("authorization").value_or("");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || domain::to_lower_ascii(header.substr(0, kBearer.size())) != "bearer ") return std::nullopt;
  return verify_token(secret, header.substr(kBearer.size()));
}

HttpProblem unauthorized() {
  auto p = make_problem(401, "unauthorized", "A valid bearer token is required.");
  p.headers.emplace_back("WWW-Authenticate", "Bearer");
  return HttpProblem(std::move(p));
}

ConsoleRequestFacts console_facts(const WireRequest& request) {
  ConsoleRequestFacts f;
  f.origin = request.header("origin");
  f.host = request.header("host").value_or("");
  f.tls = domain::to_lower_ascii(request.header("x-forwarded-proto").value_or("")) == "https";
  if (auto cookies = request.header("cookie")) f.cookie = cookie_value(*cookies, kConsoleCookieName);
  return f;
}

// The console's session cookie, when the request has no Authorization header.
std::optional<TokenClaims> cookie_claims(const WireRequest& request, const std::string& secret) {
  if (request.header("authorization")) return std::nullopt;
  auto facts = console_facts(request);
  if (!facts.cookie) return std::nullopt;
  auto claims = verify_token(secret, *facts.cookie);
  if (!claims || claims->session_id.empty()) return std::nullopt;
  return claims;
}

// Resolves the bearer token or, without an Authorization header, the console's
// session cookie; throws HttpProblem 401 (no hint why). A cookie-authenticated
// request that changes state must come from our own origin (403 otherwise), and
// its session must still be active (signed out or expired: 401).
domain::RequestContext authenticate(const Exchange& ex, const ServerOptions& options) {
  std::optional<TokenClaims> claims;
  bool by_cookie = false;
  if (ex.request.header("authorization")) {
    claims = bearer_claims(ex.request, options.jwt_secret);
    // A console session token is only accepted as the cookie (where revocation is checked).
    if (claims && !claims->session_id.empty()) claims.reset();
  } else if (auto facts = console_facts(ex.request); facts.cookie) {
    by_cookie = true;
    if (changes_state(ex.request.method) && !same_origin(facts)) {
      throw HttpProblem(make_problem(403, "forbidden", "This request must come from the console's own origin."));
    }
    claims = cookie_claims(ex.request, options.jwt_secret);
  }
  if (!claims) throw unauthorized();
  domain::RequestContext ctx;
  ctx.company_id = claims->company_id;
  ctx.user_id = claims->user_id;
  ctx.role = claims->role;
  ctx.correlation_id = ex.correlation_id;
  if (by_cookie) {
    if (!options.services || !options.services->console_sessions ||
        !options.services->console_sessions->is_active(ctx, claims->session_id)) {
      throw unauthorized();
    }
  }
  return ctx;
}

bool allows(Access access, domain::Role role) {
  switch (access) {
    case Access::kPublic:
    case Access::kViewer: return true;
    case Access::kAgent: return role == domain::Role::kAgent || role == domain::Role::kAdmin;
    case Access::kAdmin: return role == domain::Role::kAdmin;
  }
  return false;
}

// Takes the response: a raw body (a list page is ~700 KB) is moved, not copied.
void write_api_response(WireResponse& res, ApiResponse&& out) {
  res.status = out.status;
  for (const auto& [k, v] : out.headers) set_header(res, k, v);
  if (out.no_content) return;
  set_header(res, "Content-Type", out.content_type);
  if (out.body_stream) {
    res.body_stream = std::move(out.body_stream);
    return;
  }
  res.body = out.raw_body ? std::move(*out.raw_body) : out.serialized();
}

// A streamed body with the exchange's log context on every line it writes, and
// one line when it ends: http_stream_finished (bytes, chunks, total duration) or,
// when a chunk fails, http_stream_failed (error) — the access line (http_request)
// was written when the head was ready.
BodyStream observed_stream(BodyStream inner, const Exchange& ex, const std::string& route) {
  struct Progress {
    std::size_t bytes = 0;
    std::size_t chunks = 0;
  };
  auto progress = std::make_shared<Progress>();
  return [inner = std::move(inner), progress, correlation_id = ex.correlation_id, company_id = ex.company_id, route,
          received = ex.request.received]() -> std::string {
    common::ScopedLogContext scope(correlation_id, company_id);
    auto fields = [&] {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received).count();
      return nlohmann::json{{"route", route}, {"bytes", progress->bytes}, {"chunks", progress->chunks},
                            {"duration_ms", ms}};
    };
    try {
      std::string chunk = inner();
      if (chunk.empty()) {
        common::log(spdlog::level::info, "http_stream_finished", fields());
      } else {
        progress->bytes += chunk.size();
        progress->chunks += 1;
      }
      return chunk;
    } catch (...) {
      std::string cause;
      const auto p = problem_from_exception(std::current_exception(), false, &cause);
      auto f = fields();
      f["status"] = p.status;
      f["cause"] = cause.empty() ? p.detail : cause;
      common::log(spdlog::level::err, "http_stream_failed", f);
      throw;
    }
  };
}

// Runs the handler under an Idempotency-Key: first use runs and stores the
// response; a retry replays it; another request with the key is refused.
ApiResponse run_idempotent(ApiServices& services, const Route& route, ApiRequest& areq, const std::string& key) {
  if (key.empty() || key.size() > 200 || !valid_request_id(key)) {
    throw bad_request("Invalid Idempotency-Key.", {{"Idempotency-Key", "1..200 characters of [A-Za-z0-9._:-]"}});
  }
  const auto hash = common::sha256_hex(areq.method + " " + areq.path + "\n" + areq.body);
  auto claim = services.idempotency->claim(areq.ctx, key, hash);
  switch (claim.outcome) {
    case domain::ClaimOutcome::kReplay: {
      ApiResponse r;
      r.status = claim.stored->status;
      r.raw_body = claim.stored->body;
      if (claim.stored->location) r.headers.emplace_back("Location", *claim.stored->location);
      r.headers.emplace_back("Idempotent-Replayed", "true");
      return r;
    }
    case domain::ClaimOutcome::kInProgress:
      throw HttpProblem(make_problem(409, "conflict", "A request with this Idempotency-Key is still in progress."));
    case domain::ClaimOutcome::kMismatch:
      throw HttpProblem(make_problem(422, "idempotency-key-reused",
                                     "This Idempotency-Key was used for a different request."));
    case domain::ClaimOutcome::kClaimed:
      break;
  }
  ApiResponse out;
  try {
    out = route.handler(areq);
  } catch (...) {
    try {
      services.idempotency->release(areq.ctx, key);
    } catch (const std::exception& e) {
      common::log(spdlog::level::warn, "idempotency_release_failed", {{"error", e.what()}});
    }
    throw;
  }
  domain::StoredResponse stored{out.status, out.serialized(), std::nullopt};
  for (const auto& [k, v] : out.headers) {
    if (k == "Location") stored.location = v;
  }
  services.idempotency->complete(areq.ctx, key, stored);
  return out;
}

// The method routing sees: HEAD is GET without the body (the transport drops it).
std::string routing_method(const std::string& method) { return method == "HEAD" ? "GET" : method; }

bool is_console_path(const std::string& path) {
  return path == "/" || path == "/console" || path.rfind("/console/", 0) == 0;
}

// The operator console (outside the API's route table and OpenAPI document): static
// files, sign-in and sign-out. Every answer, errors included, carries the console's
// security headers (Content-Security-Policy, nosniff, ...).
void console_run(const ServerOptions& options, const ConsoleAssets& assets, Exchange& ex, const RequestTarget& target) {
  const WireRequest& req = ex.request;
  const std::string method = routing_method(req.method);
  const std::string& path = target.path;
  const bool session_route = path == "/console/login" || path == "/console/logout";
  ex.route = session_route ? path : path == "/" ? "/" : "/console/*";
  common::ScopedLogContext log_scope(ex.correlation_id, "");
  try {
    ApiRequest areq;
    areq.method = req.method;
    areq.path = path;
    areq.route = ex.route;
    areq.query = target.query;
    if (auto ct = req.header("content-type")) areq.headers["content-type"] = *ct;
    areq.body = req.body;
    areq.ctx.correlation_id = ex.correlation_id;
    ApiResponse out;
    auto not_allowed = [](const std::string& allow) {
      auto p = make_problem(405, "method-not-allowed", "Allowed: " + allow + ".");
      p.headers.emplace_back("Allow", allow);
      return HttpProblem(std::move(p));
    };
    if (path == "/" || path == "/console") {
      if (method != "GET") throw not_allowed("GET, HEAD");
      out.status = 302;
      out.no_content = true;
      out.headers.emplace_back("Location", "/console/");
    } else if (session_route && method == "POST") {
      if (!options.services || !options.services->console_sessions) {
        throw domain::UnavailableError("console sessions need the database");
      }
      const auto facts = console_facts(req);
      out = path == "/console/login"
                ? console_sign_in(areq, facts, *options.services->console_sessions, options.jwt_secret)
                : console_sign_out(areq, facts, *options.services->console_sessions, options.jwt_secret);
    } else if (path == "/console/logout") {
      throw not_allowed("POST");
    } else if (method == "GET") {
      out = assets.serve(path, req.header("if-none-match").value_or(""));
    } else if (assets.find(path) != nullptr) {
      throw not_allowed(path == "/console/login" ? "GET, HEAD, POST" : "GET, HEAD");
    } else {
      throw domain::NotFoundError("not found");
    }
    write_api_response(ex.response, std::move(out));
  } catch (...) {
    std::string cause;
    auto p = problem_from_exception(std::current_exception(), false, &cause);
    if (!cause.empty()) {
      common::log(p.server_fault ? spdlog::level::err : spdlog::level::warn, "request_failed",
                  {{"route", ex.route}, {"status", p.status}, {"cause", cause}});
    }
    write_problem(ex, p);
  }
  for (const auto& [k, v] : console_security_headers()) set_header(ex.response, k, v);
}

void route_and_run(const ServerOptions& options, const RouteTable& table, const ConsoleAssets& assets, Exchange& ex) {
  const WireRequest& req = ex.request;
  auto target = parse_request_target(req.target);
  if (!target) {
    write_problem(ex, make_problem(400, "bad-request", "The request target is not a valid origin-form URL."));
    return;
  }
  if (is_console_path(target->path)) return console_run(options, assets, ex, *target);
  auto match = table.match(routing_method(req.method), target->path);
  if (match.route == nullptr) {
    if (!match.allowed.empty()) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      auto p = make_problem(405, "method-not-allowed", "Allowed: " + allow + ".");
      p.headers.emplace_back("Allow", allow);
      write_problem(ex, p);
    } else {
      write_problem(ex, make_problem(404, "not-found", "The requested resource does not exist."));
    }
    return;
  }
  const Route& route = *match.route;
  ex.route = route.pattern;
  ApiRequest areq;
  areq.method = req.method;
  areq.path = target->path;
  areq.route = route.pattern;
  areq.path_params = std::move(match.params);
  areq.query = std::move(target->query);
  for (const char* h : {"content-type", "if-match", "idempotency-key"}) {
    if (auto v = req.header(h)) areq.headers[h] = *v;
  }
  areq.body = req.body;
  const bool if_match_sent = req.header("if-match").has_value();
  std::optional<common::ScopedLogContext> log_scope;
  try {
    if (route.access != Access::kPublic) {
      areq.ctx = authenticate(ex, options);
      ex.company_id = areq.ctx.company_id;
      log_scope.emplace(areq.ctx);
      if (!allows(route.access, areq.ctx.role)) {
        throw HttpProblem(make_problem(403, "forbidden",
                                       std::string("This operation needs the ") + to_string(route.access) + " role."));
      }
    } else {
      areq.ctx.correlation_id = ex.correlation_id;
      log_scope.emplace(ex.correlation_id, "");
    }
    if (options.before_handler) options.before_handler(req.method, route.pattern);
    ApiResponse out;
    const auto key = req.header("idempotency-key");
    if (route.idempotency_key && key && options.services) {
      out = run_idempotent(*options.services, route, areq, *key);
    } else {
      out = route.handler(areq);
    }
    write_api_response(ex.response, std::move(out));
  } catch (...) {
    std::string cause;
    auto p = problem_from_exception(std::current_exception(), if_match_sent, &cause);
    if (!cause.empty()) {
      common::log(p.server_fault ? spdlog::level::err : spdlog::level::warn, "request_failed",
                  {{"route", route.pattern}, {"status", p.status}, {"cause", cause}});
    }
    write_problem(ex, p);
  }
}

// Metrics and the access-log line; runs before the response is written, so a
// client that got its answer can rely on the line being there.
WireResponse finish(Exchange& ex) {
  static auto& requests = common::metrics().counter_family("tradesphere_http_requests_total",
                                                           "HTTP requests, by method, route and status");
  static auto& durations = common::metrics().histogram_family("tradesphere_http_request_duration_seconds",
                                                              "HTTP request duration, by method, route and status");
  set_header(ex.response, "X-Request-Id", ex.correlation_id);
  const auto elapsed = std::chrono::steady_clock::now() - ex.request.received;
  const std::string route = ex.route.empty() ? "unmatched" : ex.route;
  // Only known methods become label values (no unbounded label sets from clients).
  static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  const std::string method = kMethods.count(ex.request.method) ? ex.request.method : "OTHER";
  const common::Labels labels = {{"method", method}, {"route", route}, {"status", std::to_string(ex.response.status)}};
  requests.with(labels).inc();
  durations.with(labels).observe(elapsed);
  if (ex.response.status == 503) {
    unavailable_counter(!ex.unavailable_cause.empty() ? ex.unavailable_cause
                        : route == "/readyz"          ? "not_ready"
                                                      : "database")
        .inc();
  }
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  common::ScopedLogContext scope(ex.correlation_id, ex.company_id);
  common::log(spdlog::level::info, "http_request",
              {{"method", method}, {"route", route}, {"status", ex.response.status}, {"duration_ms", ms}});
  if (ex.response.body_stream) ex.response.body_stream = observed_stream(std::move(ex.response.body_stream), ex, route);
  return std::move(ex.response);
}

}  // namespace

Dispatcher::Dispatcher(const ServerOptions& options) : options_(options) {
  register_system_routes(table_, options_);
  if (options_.services) register_v1_routes(table_, *options_.services);
}

WireResponse Dispatcher::handle(const WireRequest& request) const {
  Exchange ex = begin(request);
  try {
    route_and_run(options_, table_, console_assets_, ex);
  } catch (...) {  // only a failure outside the handler's own try (e.g. bad_alloc building the request)
    std::string cause;
    auto p = problem_from_exception(std::current_exception(), false, &cause);
    common::log(spdlog::level::err, "request_failed", {{"cause", cause}});
    write_problem(ex, p);
  }
  return finish(ex);
}

common::Counter& unavailable_counter(const std::string& cause) {
  static auto& family = common::metrics().counter_family(
      "tradesphere_http_unavailable_total", "Answers 503 (and connections refused with one), by cause");
  return family.with({{"cause", cause}});
}

WireResponse Dispatcher::refuse(const WireRequest& request, int status, const std::string& code,
                                const std::string& detail, const std::string& cause) const {
  Exchange ex = begin(request);
  ex.unavailable_cause = cause;
  auto p = make_problem(status, code, detail);
  if (status == 503) p.headers.emplace_back("Retry-After", "1");
  write_problem(ex, p);
  if (status != 503) ex.response.close = true;  // the rest of the stream cannot be trusted
  return finish(ex);
}

std::string Dispatcher::tenant_of(const WireRequest& request) const {
  auto claims = request.header("authorization") ? bearer_claims(request, options_.jwt_secret)
                                                : cookie_claims(request, options_.jwt_secret);
  return claims ? claims->company_id : std::string();
}

bool Dispatcher::answers_from_memory(const WireRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  const auto path = request.target.substr(0, request.target.find('?'));
  return path == "/healthz";
}

}  // namespace tradesphere::http
