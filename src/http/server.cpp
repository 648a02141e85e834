#include "http/server.hpp"

#include <csignal>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/json_log.hpp"
#include "db/migrations.hpp"

namespace tradesphere::http {

struct Server::Impl {
  ServerOptions options;
  httplib::Server server;
  int port = 0;
};

namespace {

void write_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void register_health_routes(Server::Impl& impl);

}  // namespace

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& svr = impl_->server;
  svr.set_payload_max_length(impl_->options.max_body_bytes);
  const int threads = impl_->options.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);
  register_health_routes(*impl_);
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
  return impl_->port;
}

void Server::run() { impl_->server.listen_after_bind(); }

void Server::stop() { impl_->server.stop(); }

namespace {

void register_health_routes(Server::Impl& impl) {
  impl.server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    write_json(res, 200, {{"status", "ok"}});
  });
  impl.server.Get("/readyz", [&impl](const httplib::Request&, httplib::Response& res) {
    try {
      db::MigrationRunner runner(impl.options.database.app_url);
      int current = runner.current_version();
      int latest = runner.latest_version();
      if (current != latest) {
        write_json(res, 503, {{"status", "migrations pending"}, {"current", current}, {"latest", latest}});
        return;
      }
      write_json(res, 200, {{"status", "ready"}, {"schema_version", current}});
    } catch (const std::exception&) {
      write_json(res, 503, {{"status", "database unavailable"}});
    }
  });
}

}  // namespace

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
