#include "http/server.hpp"

#include <cerrno>
#include <csignal>
#include <pthread.h>

#include <atomic>
#include <set>
#include <chrono>
#include <thread>

#include <httplib.h>
#include <sys/socket.h>
#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "db/idempotency_store.hpp"
#include "http/api.hpp"
#include "http/api_services.hpp"
#include "http/jwt.hpp"
#include "http/problem.hpp"
#include "http/routes.hpp"

namespace tradesphere::http {

struct Server::Impl {
  ServerOptions options;
  httplib::Server server;
  RouteTable table;
  int port = 0;
  std::atomic<bool> run_entered{false};
  std::atomic<bool> run_finished{false};
  std::atomic<bool> stop_requested{false};
  int listen_fd = -1;  // recorded while binding (socket options hook)
};

namespace {
// Debian's libcpp-httplib is built with a listen backlog of 5: a burst of new
// connections (50 clients at once) overflows the accept queue and, with SYN
// cookies, the kernel resets some of them. bind() raises it on the listening
// socket (Linux applies a second listen() to the backlog).
constexpr int kListenBacklog = 1024;

// Per-request facts shared by the pre-routing handler, the dispatcher, the
// error handler and the access logger, which all run on the worker thread.
struct RequestState {
  bool active = false;
  std::chrono::steady_clock::time_point started;
  std::string correlation_id;
  std::string route;
  std::string company_id;
};
thread_local RequestState t_state;

bool valid_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
  }
  return true;
}

void begin_request(const httplib::Request& req, httplib::Response& res) {
  t_state = RequestState{};
  t_state.active = true;
  t_state.started = std::chrono::steady_clock::now();
  auto given = req.get_header_value("X-Request-Id");
  t_state.correlation_id = valid_request_id(given) ? given : common::random_hex(16);
  res.set_header("X-Request-Id", t_state.correlation_id);
}

void write_problem(httplib::Response& res, const Problem& p) {
  res.status = p.status;
  for (const auto& [k, v] : p.headers) res.set_header(k, v);
  res.set_content(problem_body(p, t_state.correlation_id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  kProblemContentType);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Resolves the bearer token; throws HttpProblem 401 (no hint why).
domain::RequestContext authenticate(const httplib::Request& req, const std::string& secret) {
  auto unauthorized = [] {
    auto p = make_problem(401, "unauthorized", "A valid bearer token is required.");
    p.headers.emplace_back("WWW-Authenticate", "Bearer");
    return HttpProblem(std::move(p));
  };
  const auto header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || lower(header.substr(0, kBearer.size())) != "bearer ") throw unauthorized();
  auto claims = verify_token(secret, header.substr(kBearer.size()));
  if (!claims) throw unauthorized();
  domain::RequestContext ctx;
  ctx.company_id = claims->company_id;
  ctx.user_id = claims->user_id;
  ctx.role = claims->role;
  ctx.correlation_id = t_state.correlation_id;
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

void write_api_response(httplib::Response& res, const ApiResponse& out) {
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k, v);
  if (out.no_content) return;
  res.set_content(out.serialized(), out.content_type);
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
    case db::ClaimOutcome::kReplay: {
      ApiResponse r;
      r.status = claim.stored->status;
      r.raw_body = claim.stored->body;
      if (claim.stored->location) r.headers.emplace_back("Location", *claim.stored->location);
      r.headers.emplace_back("Idempotent-Replayed", "true");
      return r;
    }
    case db::ClaimOutcome::kInProgress:
      throw HttpProblem(make_problem(409, "conflict", "A request with this Idempotency-Key is still in progress."));
    case db::ClaimOutcome::kMismatch:
      throw HttpProblem(make_problem(422, "idempotency-key-reused",
                                     "This Idempotency-Key was used for a different request."));
    case db::ClaimOutcome::kClaimed:
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
  db::StoredResponse stored{out.status, out.serialized(), std::nullopt};
  for (const auto& [k, v] : out.headers) {
    if (k == "Location") stored.location = v;
  }
  services.idempotency->complete(areq.ctx, key, stored);
  return out;
}

void finish_request(const httplib::Request& req, const httplib::Response& res);

void dispatch_route(Server::Impl& impl, const httplib::Request& req, httplib::Response& res);

void dispatch(Server::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  if (!t_state.active) begin_request(req, res);
  dispatch_route(impl, req, res);
  finish_request(req, res);
}

void dispatch_route(Server::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  // HEAD is GET without the body (httplib drops it).
  auto match = impl.table.match(req.method == "HEAD" ? "GET" : req.method, req.path);
  if (match.route == nullptr) {
    if (!match.allowed.empty()) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      auto p = make_problem(405, "method-not-allowed", "Allowed: " + allow + ".");
      p.headers.emplace_back("Allow", allow);
      write_problem(res, p);
    } else {
      write_problem(res, make_problem(404, "not-found", "The requested resource does not exist."));
    }
    return;
  }
  const Route& route = *match.route;
  t_state.route = route.pattern;
  ApiRequest areq;
  areq.method = req.method;
  areq.path = req.path;
  areq.route = route.pattern;
  areq.path_params = std::move(match.params);
  areq.query.insert(req.params.begin(), req.params.end());
  for (const char* h : {"content-type", "if-match", "idempotency-key"}) {
    if (req.has_header(h)) areq.headers[h] = req.get_header_value(h);
  }
  areq.body = req.body;
  bool if_match_sent = req.has_header("If-Match");
  std::optional<common::ScopedLogContext> log_scope;
  try {
    if (route.access != Access::kPublic) {
      areq.ctx = authenticate(req, impl.options.jwt_secret);
      t_state.company_id = areq.ctx.company_id;
      log_scope.emplace(areq.ctx);
      if (!allows(route.access, areq.ctx.role)) {
        throw HttpProblem(make_problem(403, "forbidden",
                                       std::string("This operation needs the ") + to_string(route.access) + " role."));
      }
    } else {
      areq.ctx.correlation_id = t_state.correlation_id;
      log_scope.emplace(t_state.correlation_id, "");
    }
    if (impl.options.before_handler) impl.options.before_handler(req.method, route.pattern);
    ApiResponse out;
    if (route.idempotency_key && req.has_header("Idempotency-Key") && impl.options.services) {
      out = run_idempotent(*impl.options.services, route, areq, req.get_header_value("Idempotency-Key"));
    } else {
      out = route.handler(areq);
    }
    write_api_response(res, out);
  } catch (...) {
    std::string cause;
    auto p = problem_from_exception(std::current_exception(), if_match_sent, &cause);
    if (!cause.empty()) {
      common::log(p.server_fault ? spdlog::level::err : spdlog::level::warn, "request_failed",
                  {{"route", route.pattern}, {"status", p.status}, {"cause", cause}});
    }
    res.headers.erase("ETag");
    res.headers.erase("Location");
    write_problem(res, p);
  }
}

// Metrics and the access-log line; runs before the response is written, so a
// client that got its answer can rely on the line being there.
void finish_request(const httplib::Request& req, const httplib::Response& res) {
  static auto& requests = common::metrics().counter_family("tradesphere_http_requests_total",
                                                           "HTTP requests, by method, route and status");
  static auto& durations = common::metrics().histogram_family("tradesphere_http_request_duration_seconds",
                                                              "HTTP request duration, by method, route and status");
  const auto elapsed = t_state.active ? std::chrono::steady_clock::now() - t_state.started
                                      : std::chrono::steady_clock::duration::zero();
  const std::string route = t_state.route.empty() ? "unmatched" : t_state.route;
  // Only known methods become label values (no unbounded label sets from clients).
  static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  const std::string method = kMethods.count(req.method) ? req.method : "OTHER";
  const common::Labels labels = {{"method", method}, {"route", route}, {"status", std::to_string(res.status)}};
  requests.with(labels).inc();
  durations.with(labels).observe(elapsed);
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  common::ScopedLogContext scope(t_state.correlation_id, t_state.company_id);
  common::log(spdlog::level::info, "http_request",
              {{"method", method}, {"route", route}, {"status", res.status}, {"duration_ms", ms}});
  t_state = RequestState{};
}

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& o = impl_->options;
  // One database connection per worker: a request never waits for a connection another
  // request holds (with fewer, it would wait up to acquire_timeout, then answer 503).
  if (!o.services && !o.database.app_url.empty()) o.services = make_api_services(o.database.app_url, o.threads);
  if (o.services && o.services->database && o.services->database->pool().options().size < o.threads) {
    common::log(spdlog::level::warn, "server.pool_smaller_than_threads",
                {{"pool_size", o.services->database->pool().options().size}, {"threads", o.threads}});
  }
  auto& svr = impl_->server;
  svr.set_payload_max_length(o.max_body_bytes);
  // Small JSON responses would otherwise wait on Nagle + delayed ACK (~40 ms each way).
  svr.set_tcp_nodelay(true);
  Impl* self = impl_.get();
  svr.set_socket_options([self](socket_t sock) {
    httplib::default_socket_options(sock);
    self->listen_fd = sock;
  });
  const int threads = o.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);

  register_system_routes(impl_->table, o);
  if (o.services) register_v1_routes(impl_->table, *o.services);

  Impl* impl = impl_.get();
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    // No response compression here. Debian's cpp-httplib 0.11 compresses every
    // application/json body itself when the client sends Accept-Encoding, and
    // prefers Brotli at its maximum quality: one 1000-row list page (665 KB) cost
    // 1.8 s of CPU instead of ~0.3 s, a cheap way for any client to exhaust the
    // worker threads. Compression belongs to the reverse proxy in front of us.
    // httplib offers no switch, so the header is dropped before it looks at it
    // (the Request is a non-const local of httplib's connection loop).
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    begin_request(req, res);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto handler = [impl](const httplib::Request& req, httplib::Response& res) { dispatch(*impl, req, res); };
  const std::string any = "/.*";
  svr.Get(any, handler);
  svr.Post(any, handler);
  svr.Put(any, handler);
  svr.Patch(any, handler);
  svr.Delete(any, handler);
  svr.Options(any, handler);
  // Errors httplib raises itself (413 body too large, 400 bad request line, 414 …)
  // still answer problem+json.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (!t_state.active) begin_request(req, res);
    if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", t_state.correlation_id);
    std::string code = res.status == 413 ? "payload-too-large" : res.status == 404 ? "not-found" : "bad-request";
    if (res.status == 413) {
      res.set_header("Connection", "close");
    }
    write_problem(res, make_problem(res.status, code, res.status == 413 ? "The request body is too large." : ""));
    finish_request(req, res);
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string cause;
    auto p = problem_from_exception(ep, false, &cause);
    common::log(spdlog::level::err, "request_failed", {{"cause", cause}});
    write_problem(res, p);
  });
}

Server::~Server() = default;

int Server::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(o.host);
  } else if (impl_->server.bind_to_port(o.host, o.port)) {
    impl_->port = o.port;
  } else {
    impl_->port = -1;
  }
  if (impl_->port <= 0) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                             " (in use? choose another with --port / TRADESPHERE_PORT)");
  }
  if (impl_->listen_fd >= 0 && ::listen(impl_->listen_fd, kListenBacklog) != 0) {
    common::log(spdlog::level::warn, "listen_backlog_unchanged", {{"errno", errno}});
  }
  return impl_->port;
}

void Server::run() {
  impl_->run_entered = true;
  if (!impl_->stop_requested) impl_->server.listen_after_bind();
  impl_->run_finished = true;
}

void Server::stop() {
  // httplib's stop() does nothing until the accept loop runs: a stop() that races
  // with the start of run() waits for the loop (or makes run() return at once).
  impl_->stop_requested = true;
  while (impl_->run_entered && !impl_->run_finished && !impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

std::vector<std::pair<std::string, std::string>> Server::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->table.routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

int serve_until_signal(ServerOptions options) {
  // Block the signals in every thread; one watcher thread receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Server server(options);
  int port = server.bind();
  common::log(spdlog::level::info, "server_listening",
              {{"url", "http://" + options.host + ":" + std::to_string(port)}});
  std::atomic<bool> signalled{false};
  std::thread watcher([&server, &signalled, set]() mutable {
    int sig = 0;
    sigwait(&set, &sig);
    signalled = true;
    if (sig == SIGUSR1) return;  // woken by ourselves below
    common::log(spdlog::level::info, "server_stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    server.stop();
  });
  server.run();
  // run() returned without a signal (listen failure): wake the watcher.
  if (!signalled) pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();
  common::log(spdlog::level::info, "server_stopped", nlohmann::json::object());
  return 0;
}

}  // namespace tradesphere::http
