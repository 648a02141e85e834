#include "http/server.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "domain/normalize.hpp"
#include "http/api_services.hpp"
#include "http/dispatcher.hpp"
#include "http/fair_scheduler.hpp"

namespace tradesphere::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;

common::Counter& closed_counter(const std::string& reason) {
  static auto& family = common::metrics().counter_family(
      "tradesphere_http_connections_closed_total",
      "Connections the server closed, by reason (header_timeout, body_timeout, idle_timeout, write_timeout, "
      "malformed, draining, stream_failed)");
  return family.with({{"reason", reason}});
}
common::Gauge& open_connections_gauge() {
  static auto& g = common::metrics().gauge("tradesphere_http_open_connections", "Open HTTP connections");
  return g;
}

// A connection over max_connections gets this and is closed: a quick, clear
// refusal instead of a silent reset (best effort, never blocks).
const std::string kConnectionLimitResponse = [] {
  const std::string body =
      R"({"type":"urn:tradesphere:problem:unavailable","title":"Service Unavailable","status":503,)"
      R"("detail":"Too many open connections; retry shortly."})";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}();

// A refused request's body may still be on its way: read and drop up to this
// much (and this long) after answering, so the client sees the answer rather
// than a reset (what nginx calls a lingering close).
constexpr std::size_t kLingerBytes = 64 << 20;
constexpr auto kLingerTime = std::chrono::seconds(2);

}  // namespace

struct Server::Impl {
  ServerOptions options;
  // Declared before io: sessions unregister themselves while io's handlers are destroyed.
  std::mutex sessions_mutex;
  std::unordered_set<Session*> sessions;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry_accept{io};
  asio::steady_timer drain_timer{io};
  std::chrono::steady_clock::time_point drain_deadline;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<FairScheduler> workers;  // declared last: joined first (its tasks post to io)
  std::atomic<bool> draining{false};
  int port = 0;

  void accept();
  void refuse_connection(tcp::socket& socket);
  void begin_drain();
  void check_drained();
  std::vector<std::shared_ptr<Session>> live_sessions();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& impl) : stream_(std::move(socket)), impl_(impl) {
    std::lock_guard lock(impl_.sessions_mutex);
    impl_.sessions.insert(this);
    open_connections_gauge().set(static_cast<double>(impl_.sessions.size()));
  }
  ~Session() {
    std::lock_guard lock(impl_.sessions_mutex);
    impl_.sessions.erase(this);
    open_connections_gauge().set(static_cast<double>(impl_.sessions.size()));
  }

  void start() { read_header(); }

  // Drain: a connection that is not working on a request is closed now; one that
  // is finishes its response and then closes (respond() turns keep-alive off).
  void drain() {
    if (phase_ == Phase::kIdle || phase_ == Phase::kHeader || phase_ == Phase::kBody) {
      closed_counter("draining").inc();
      close();
    }
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kBusy, kWriting, kLinger, kClosed };

  const ServerOptions& options() const { return impl_.options; }

  // Keep-alive: wait up to idle_timeout for the next request's first byte, then
  // give its head header_timeout.
  void wait_for_next() {
    if (impl_.draining) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined request already here
    phase_ = Phase::kIdle;
    buffer_.shrink_to_fit();  // an idle connection keeps no buffer
    stream_.expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(512), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) {
        if (ec == beast::error::timeout) closed_counter("idle_timeout").inc();
        return self->close();
      }
      self->read_header();
    });
  }

  void read_header() {
    phase_ = Phase::kHeader;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(options().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        return refuse(431, "request-header-too-large", "The request line and headers exceed the limit.");
      }
      if (ec == bhttp::error::body_limit) {  // Content-Length over the limit: refused before the body is read
        return refuse(413, "payload-too-large", "The request body is too large.");
      }
      if (ec == beast::error::timeout) {
        closed_counter("header_timeout").inc();
        return close();
      }
      // A parse error (bad method, target, version, header syntax …) gets a 400;
      // the client closing or resetting the connection gets nothing.
      const bool parse_error = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (parse_error) return refuse(400, "bad-request", "The request is not valid HTTP/1.1.");
      return close();
    }
    auto& head = parser_->get();
    head_only_ = head.method() == bhttp::verb::head;
    if (auto length = parser_->content_length(); length && *length > options().max_body_bytes) {
      return refuse(413, "payload-too-large", "The request body is too large.");
    }
    if (parser_->is_done()) return dispatch();
    phase_ = Phase::kBody;
    stream_.expires_after(options().body_timeout);
    if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
      // curl waits (up to 1 s) for this before sending a large body.
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue), [self = shared_from_this()](beast::error_code e, std::size_t) {
        if (e) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::body_limit) {
        return self->refuse(413, "payload-too-large", "The request body is too large.");
      }
      if (ec) {
        if (ec == beast::error::timeout) closed_counter("body_timeout").inc();
        return self->close();
      }
      self->dispatch();
    });
  }

  WireRequest take_request() {
    WireRequest req;
    if (parser_) {
      auto msg = parser_->release();
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.headers.reserve(std::distance(msg.begin(), msg.end()));
      for (const auto& field : msg) {
        const auto name = field.name_string();
        req.headers.emplace_back(domain::to_lower_ascii(std::string_view(name.data(), name.size())),
                                 std::string(field.value()));
      }
      req.body = std::move(msg.body());
      keep_alive_ = msg.keep_alive();
      parser_.reset();
    }
    req.received = std::chrono::steady_clock::now();
    return req;
  }

  void dispatch() {
    phase_ = Phase::kBusy;
    stream_.expires_never();
    auto request = std::make_shared<WireRequest>(take_request());
    const Dispatcher& dispatcher = *impl_.dispatcher;
    if (dispatcher.answers_from_memory(*request)) return respond(dispatcher.handle(*request));
    auto self = shared_from_this();
    tenant_ = dispatcher.tenant_of(*request);
    const auto admission = impl_.workers->submit(tenant_, [self, request] {
      const auto& impl = self->impl_;
      if (self->impl_.io.stopped()) return;  // past the drain deadline: nobody will write the answer
      WireResponse res;
      if (std::chrono::steady_clock::now() - request->received > impl.options.queue_timeout) {
        res = impl.dispatcher->refuse(*request, 503, "unavailable", "The server is busy; retry shortly.",
                                      "queue_timeout");
      } else {
        res = impl.dispatcher->handle(*request);
      }
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->respond(std::move(res)); });
    });
    if (admission != Admission::kAccepted) {
      respond(dispatcher.refuse(*request, 503, "unavailable", "The server is busy; retry shortly.",
                                to_string(admission)));
    }
  }

  // A refusal decided while reading: answer, then close (lingering).
  void refuse(int status, const std::string& code, const std::string& detail) {
    if (status == 400) closed_counter("malformed").inc();
    WireRequest partial;
    if (parser_) {
      const auto& head = parser_->get();
      partial.method = std::string(head.method_string());
      partial.target = std::string(head.target());
      if (auto id = head.find("X-Request-Id"); id != head.end()) partial.headers.emplace_back("x-request-id", id->value());
    }
    parser_.reset();
    keep_alive_ = false;
    auto res = impl_.dispatcher->refuse(partial, status, code, detail);
    res.close = true;
    respond(std::move(res));
  }

  void respond(WireResponse out) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kWriting;
    const bool keep_alive = keep_alive_ && !out.close && !impl_.draining;
    if (out.body_stream) return respond_streamed(std::move(out), keep_alive);
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(out.status));
    for (const auto& [name, value] : out.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(out.body);
    res->prepare_payload();
    if (head_only_) res->body().clear();  // Content-Length stays that of the GET
    stream_.expires_after(options().write_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive, linger = out.close](
                                          beast::error_code ec, std::size_t) {
      if (ec) {
        if (ec == beast::error::timeout) closed_counter("write_timeout").inc();
        return self->close();
      }
      if (linger) return self->linger();
      if (!keep_alive) return self->close();
      self->wait_for_next();
    });
  }

  // A streamed body (WireResponse::body_stream): the head with Transfer-Encoding:
  // chunked, then one chunk at a time. Each chunk is produced on a worker thread
  // (queued like a request, under the same company, so a long export shares the
  // workers fairly) and written here with write_timeout; the next one is asked for
  // only once the previous one is written, so a slow reader holds one chunk in
  // memory and no worker. A producer that throws, or a worker pool that refuses
  // the task, ends the connection without the last chunk (the client sees an
  // incomplete body). HEAD gets the head only.
  void respond_streamed(WireResponse out, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(out.status));
    for (const auto& [name, value] : out.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->chunked(true);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    auto producer = std::make_shared<BodyStream>(std::move(out.body_stream));
    stream_.expires_after(options().write_timeout);
    bhttp::async_write_header(stream_, *serializer, [self = shared_from_this(), res, serializer, producer, keep_alive](
                                                        beast::error_code ec, std::size_t) {
      if (ec) {
        if (ec == beast::error::timeout) closed_counter("write_timeout").inc();
        return self->close();
      }
      if (self->head_only_) return self->after_response(keep_alive);
      self->produce_chunk(producer, keep_alive);
    });
  }

  void produce_chunk(const std::shared_ptr<BodyStream>& producer, bool keep_alive) {
    stream_.expires_never();  // the worker's database time is bounded by statement_timeout
    auto self = shared_from_this();
    const auto admission = impl_.workers->submit(tenant_, [self, producer, keep_alive] {
      if (self->impl_.io.stopped()) return;
      std::optional<std::string> chunk;  // nullopt: the producer failed (it logged why)
      try {
        chunk = (*producer)();
      } catch (...) {
      }
      asio::post(self->stream_.get_executor(), [self, producer, keep_alive, chunk = std::move(chunk)]() mutable {
        self->write_chunk(producer, std::move(chunk), keep_alive);
      });
    });
    if (admission != Admission::kAccepted) {
      closed_counter("stream_failed").inc();
      close();
    }
  }

  void write_chunk(const std::shared_ptr<BodyStream>& producer, std::optional<std::string> chunk, bool keep_alive) {
    if (phase_ == Phase::kClosed) return;
    if (!chunk) {
      closed_counter("stream_failed").inc();
      return close();
    }
    stream_.expires_after(options().write_timeout);
    auto on_written = [self = shared_from_this()](beast::error_code ec) {
      if (ec == beast::error::timeout) closed_counter("write_timeout").inc();
      if (ec) self->close();
      return !ec;
    };
    if (chunk->empty()) {
      asio::async_write(stream_, bhttp::make_chunk_last(),
                        [self = shared_from_this(), on_written, keep_alive](beast::error_code ec, std::size_t) {
                          if (on_written(ec)) self->after_response(keep_alive);
                        });
      return;
    }
    auto data = std::make_shared<std::string>(std::move(*chunk));
    asio::async_write(stream_, bhttp::make_chunk(asio::buffer(*data)),
                      [self = shared_from_this(), on_written, data, producer, keep_alive](beast::error_code ec,
                                                                                         std::size_t) {
                        if (on_written(ec)) self->produce_chunk(producer, keep_alive);
                      });
  }

  void after_response(bool keep_alive) {
    if (!keep_alive) return close();
    wait_for_next();
  }

  // After a refusal: no more answers, but drain what the client still sends for a
  // moment so that it reads the answer instead of a connection reset.
  void linger() {
    phase_ = Phase::kLinger;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    lingered_ = 0;
    linger_read();
  }
  void linger_read() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 << 10), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->close();
      self->linger_read();
    });
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server::Impl& impl_;
  Phase phase_ = Phase::kHeader;
  bool head_only_ = false;
  bool keep_alive_ = true;
  std::string tenant_;  // company of the request being answered (queues the chunks of a streamed body)
  std::size_t lingered_ = 0;
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;  // closed by begin_drain
    if (ec) {
      // Out of file descriptors (or similar): back off instead of spinning.
      common::log(spdlog::level::warn, "accept_failed", {{"error", ec.message()}});
      retry_accept.expires_after(std::chrono::milliseconds(50));
      retry_accept.async_wait([this](beast::error_code e) {
        if (!e && !draining) accept();
      });
      return;
    }
    std::size_t open = 0;
    {
      std::lock_guard lock(sessions_mutex);
      open = sessions.size();
    }
    if (open >= options.max_connections) {
      refuse_connection(socket);
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // small JSON answers must not wait for Nagle
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

void Server::Impl::refuse_connection(tcp::socket& socket) {
  unavailable_counter("connection_limit").inc();
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kConnectionLimitResponse), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

std::vector<std::shared_ptr<Session>> Server::Impl::live_sessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(sessions_mutex);
  out.reserve(sessions.size());
  for (Session* s : sessions) {
    if (auto p = s->weak_from_this().lock()) out.push_back(std::move(p));
  }
  return out;
}

void Server::Impl::begin_drain() {
  if (draining.exchange(true)) return;
  beast::error_code ignored;
  acceptor.close(ignored);
  retry_accept.cancel();
  for (auto& s : live_sessions()) s->drain();
  drain_deadline = std::chrono::steady_clock::now() + options.drain_timeout;
  check_drained();
}

void Server::Impl::check_drained() {
  std::size_t open = 0;
  {
    std::lock_guard lock(sessions_mutex);
    open = sessions.size();
  }
  if (open == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
    if (open > 0) common::log(spdlog::level::warn, "drain_deadline_passed", {{"open_connections", open}});
    io.stop();
    return;
  }
  drain_timer.expires_after(std::chrono::milliseconds(10));
  drain_timer.async_wait([this](beast::error_code) { check_drained(); });
}

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
  impl_->dispatcher = std::make_unique<Dispatcher>(impl_->options);
  impl_->workers = std::make_unique<FairScheduler>(SchedulerLimits::for_threads(o.threads));
}

Server::~Server() {
  if (impl_->workers) impl_->workers->stop();
}

namespace {
// 10,000 idle connections need as many descriptors; the soft limit is often 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}
}  // namespace

int Server::bind() {
  auto& o = impl_->options;
  raise_descriptor_limit();
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
  if (!ec) {
    tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
    impl_->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl_->acceptor.bind(endpoint, ec);
    if (!ec) impl_->acceptor.listen(1024, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message() +
                             " (in use? choose another with --port / TRADESPHERE_PORT)");
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  return impl_->port;
}

void Server::run() {
  if (!impl_->acceptor.is_open()) return;
  impl_->accept();
  impl_->io.run();
  // Past the drain deadline (or no connection left): let queued work finish, then
  // close what is still open.
  impl_->workers->stop();
  for (auto& s : impl_->live_sessions()) s->drain();
}

void Server::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->begin_drain(); });
}

std::size_t Server::connections() const {
  std::lock_guard lock(impl_->sessions_mutex);
  return impl_->sessions.size();
}

std::vector<std::pair<std::string, std::string>> Server::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->dispatcher->table().routes()) out.emplace_back(r.method, r.pattern);
  return out;
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  return set;
}
}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve_until_signal(ServerOptions options) {
  // Block the signals in every thread (threads started later inherit the mask);
  // one watcher thread receives them.
  block_stop_signals();
  sigset_t set = stop_signals();

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
