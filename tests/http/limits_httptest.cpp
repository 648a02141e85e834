// The transport under hostile and slow clients (issue 14): stalled and trickling
// senders, idle keep-alive, oversized heads and bodies, too many connections, a
// full worker queue, and draining on stop/SIGTERM. Raw sockets send exactly the
// bytes each case needs (support/raw_connection.hpp).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/http_fixture.hpp"
#include "support/raw_connection.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;
using tradesphere::testing::RawConnection;

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

// Value of one series in the Prometheus text (0 when absent).
double metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

int status_of(const std::string& raw) {
  static const std::regex line(R"(^HTTP/1\.1 (\d{3}) )");
  std::smatch m;
  return std::regex_search(raw, m, line) ? std::stoi(m[1]) : 0;
}

// Short timeouts so each case takes a fraction of a second.
class LimitsHttpTest : public HttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    o.header_timeout = 300ms;
    o.body_timeout = 300ms;
    o.idle_timeout = 300ms;
    o.max_header_bytes = 4096;
    o.max_body_bytes = 64 << 10;
  }
  double metric_now(const std::string& series) { return metric(call("GET", "/metrics").body, series); }
};

TEST_F(LimitsHttpTest, ASenderThatStallsInTheHeaderIsClosedAfterTheHeaderTimeout) {
  const double before = metric_now(R"(tradesphere_http_connections_closed_total{reason="header_timeout"})");
  RawConnection stalled(port());
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(stalled.send("GET /healthz HTTP/1.1\r\nHo"));
  auto got = stalled.read_until_closed(5s);
  EXPECT_TRUE(got.closed) << "a stalled header must not hold the connection forever";
  EXPECT_EQ(got.data, "") << "nothing is answered to half a request";
  EXPECT_EQ(metric_now(R"(tradesphere_http_connections_closed_total{reason="header_timeout"})"), before + 1);
}

TEST_F(LimitsHttpTest, ATricklingSenderIsClosedAlthoughEveryByteArrivesBeforeTheTimeout) {
  RawConnection trickle(port());
  bool closed_early = false;
  // One byte every 50 ms: each gap is far below the 300 ms timeout, the whole head is not.
  for (char c : kHealthz) {
    if (!trickle.send(std::string(1, c))) {
      closed_early = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  auto got = trickle.read_until_closed(3s);
  EXPECT_TRUE(closed_early || got.closed);
  EXPECT_EQ(status_of(got.data), 0) << got.data;
}

TEST_F(LimitsHttpTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  RawConnection client(port());
  ASSERT_TRUE(client.send(kHealthz));
  auto first = client.read_until("{\"status\":\"ok\"}", 3s);
  ASSERT_EQ(status_of(first.data), 200) << first.data;
  EXPECT_FALSE(first.closed) << "HTTP/1.1 keeps the connection open";
  // A second request on the same connection works (keep-alive) …
  ASSERT_TRUE(client.send(kHealthz));
  ASSERT_EQ(status_of(client.read_until("{\"status\":\"ok\"}", 3s).data), 200);
  // … and then silence closes it.
  auto idle = client.read_until_closed(5s);
  EXPECT_TRUE(idle.closed);
  EXPECT_EQ(idle.data, "");
}

TEST_F(LimitsHttpTest, ABodyOverTheLimitIs413BeforeItIsSent) {
  RawConnection client(port());
  // The head announces 100 MB; not one byte of it is sent: the answer must not wait for it.
  ASSERT_TRUE(client.send("POST /v1/customers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          "Authorization: Bearer " + admin_token() + "\r\nContent-Length: 104857600\r\n\r\n"));
  auto got = client.read_until_closed(5s);
  EXPECT_EQ(status_of(got.data), 413) << got.data;
  EXPECT_NE(got.data.find("application/problem+json"), std::string::npos);
  EXPECT_NE(got.data.find("urn:tradesphere:problem:payload-too-large"), std::string::npos);
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers")[0]["n"], 0);
}

TEST_F(LimitsHttpTest, AChunkedBodyOverTheLimitIs413) {
  RawConnection client(port());
  std::string head = "POST /v1/customers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Authorization: Bearer " + admin_token() + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk(32 << 10, ' ');
  std::string body;
  for (int i = 0; i < 3; ++i) body += "8000\r\n" + chunk + "\r\n";
  client.send(head + body);
  auto got = client.read_until_closed(5s);
  EXPECT_EQ(status_of(got.data), 413) << got.data.substr(0, 300);
}

TEST_F(LimitsHttpTest, AHeadOverTheLimitIs431AndMalformedRequestsAre400) {
  {
    RawConnection client(port());
    client.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(8000, 'a') + "\r\n\r\n");
    auto got = client.read_until_closed(5s);
    EXPECT_EQ(status_of(got.data), 431) << got.data;
    EXPECT_NE(got.data.find("application/problem+json"), std::string::npos);
  }
  for (const std::string& raw : {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET /healthz HTTP/9.9\r\n\r\n"),
                                std::string("GET /v1/customers/%zz HTTP/1.1\r\nHost: t\r\n\r\n")}) {
    SCOPED_TRACE(raw);
    RawConnection client(port());
    client.send(raw);
    auto got = client.read_until("}", 5s);
    EXPECT_EQ(status_of(got.data), 400) << got.data;
    EXPECT_NE(got.data.find("urn:tradesphere:problem:bad-request"), std::string::npos);
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200) << "the server carries on";
}

TEST_F(LimitsHttpTest, HeadAnswersTheGetHeadersWithoutABody) {
  RawConnection client(port());
  client.send("HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + kHealthz);
  auto got = client.read_until("{\"status\":\"ok\"}", 3s);
  // Two answers on one connection: the HEAD one has the GET's Content-Length and no body.
  const auto second = got.data.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << got.data;
  const std::string head_answer = got.data.substr(0, second);
  EXPECT_NE(head_answer.find("Content-Length: 15\r\n"), std::string::npos) << head_answer;
  EXPECT_EQ(head_answer.substr(head_answer.size() - 4), "\r\n\r\n") << head_answer;
}

// Timeouts as in production (10 s header): stalled sockets stay open for the whole test.
class StalledClientsHttpTest : public HttpTest {};

TEST_F(StalledClientsHttpTest, TwoHundredStalledConnectionsDoNotDelayOtherRequests) {
  std::vector<RawConnection> stalled;
  for (int i = 0; i < 200; ++i) {
    stalled.emplace_back(port());
    ASSERT_TRUE(stalled.back().connected());
    ASSERT_TRUE(stalled.back().send("GET /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bear"));
  }
  const auto created = call_json("POST", "/v1/customers", admin_token(), {{"name", "Still Served"}});
  // A liveness bound, not a speed claim: a thread-per-connection server answers
  // only when the stalled sockets time out (10 s here; 29.5 s measured before).
  const auto started = std::chrono::steady_clock::now();
  auto health = call("GET", "/healthz");
  auto list = call("GET", "/v1/customers?limit=5", viewer_token());
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(health.status, 200);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json()["items"].size(), 1u);
  EXPECT_LT(took, 1s) << "requests waited for stalled connections";
  EXPECT_GE(server().connections(), 200u) << "the stalled connections are still open (each costs a socket only)";
}

class ConnectionLimitHttpTest : public HttpTest {
 protected:
  static constexpr std::size_t kLimit = 40;
  void configure(tradesphere::http::ServerOptions& o) override { o.max_connections = kLimit; }
};

TEST_F(ConnectionLimitHttpTest, OverTheLimitANewConnectionGets503AtOnceAndIsCounted) {
  const double before =
      metric(call("GET", "/metrics").body, R"(tradesphere_http_unavailable_total{cause="connection_limit"})");
  {
    std::vector<RawConnection> held;
    for (std::size_t i = 0; i < kLimit; ++i) {
      held.emplace_back(port());
      held.back().send("GET /healthz HTTP/1.1\r\n");  // an unfinished head keeps the connection busy
    }
    // a liveness bound, not a speed claim: under a sanitizer build on two busy cores the
    // 40th accept took over 2 s once (CI, 2026-12-07)
    for (int i = 0; i < 1000 && server().connections() < kLimit; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(server().connections(), kLimit);
    RawConnection extra(port());
    auto got = extra.read_until_closed(5s);
    EXPECT_EQ(status_of(got.data), 503) << got.data;
    EXPECT_NE(got.data.find("Retry-After: 1"), std::string::npos);
    EXPECT_NE(got.data.find("urn:tradesphere:problem:unavailable"), std::string::npos);
    EXPECT_TRUE(got.closed);
  }
  // The held connections are gone; the server serves again and counted the refusal.
  for (int i = 0; i < 500 && server().connections() > 0; ++i) std::this_thread::sleep_for(10ms);
  auto metrics = call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metric(metrics.body, R"(tradesphere_http_unavailable_total{cause="connection_limit"})"), before + 1);
}

// A handler that waits until the test releases it: a request stays in flight.
class DrainHttpTest : public HttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    o.before_handler = [this](const std::string&, const std::string& route) {
      if (route != "/v1/customers/{id}") return;
      std::unique_lock lock(mutex_);
      ++entered_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
    };
  }
  void wait_entered(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return entered_ >= n; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool released_ = false;
};

TEST_F(DrainHttpTest, StopFinishesTheRequestInFlightAndRefusesNewConnections) {
  auto created = call_json("POST", "/v1/customers", admin_token(), {{"name", "In Flight"}});
  ASSERT_EQ(created.status, 201);
  const std::string id = created.json()["id"];
  HttpResponse in_flight;
  std::thread client([&] { in_flight = call("GET", "/v1/customers/" + id, viewer_token()); });
  wait_entered(1);
  RawConnection idle(port());  // connected, no request yet: closed by the drain
  ASSERT_TRUE(idle.connected());
  for (int i = 0; i < 200 && server().connections() < 2; ++i) std::this_thread::sleep_for(5ms);

  server().stop();
  auto idle_read = idle.read_until_closed(5s);
  EXPECT_TRUE(idle_read.closed) << "a connection without a request is closed at once";
  for (int i = 0; i < 200 && RawConnection(port()).connected(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(RawConnection(port()).connected()) << "no new connections while draining";

  release();
  client.join();
  EXPECT_EQ(in_flight.status, 200) << in_flight.body;
  EXPECT_EQ(in_flight.json()["name"], "In Flight");
  EXPECT_EQ(in_flight.header("Connection"), "close");
  stop_server();  // run() returns once the drain is over
}

// The real binary: SIGTERM while a request waits on a row lock; the request
// completes once the lock goes, then the process exits 0.
TEST_F(HttpTest, ServeDrainsOnSigtermAndExitsZero) {
  auto created = call_json("POST", "/v1/customers", admin_token(), {{"name", "Locked"}});
  ASSERT_EQ(created.status, 201);
  const std::string id = created.json()["id"];
  const int port = tradesphere::testing::free_port();
  const std::string log = ::testing::TempDir() + "serve_sigterm.log";
  std::vector<std::string> args = {"env",
                                   "DATABASE_URL=" + app_url(),
                                   "DATABASE_ADMIN_URL=" + owner_url(),
                                   std::string("TRADESPHERE_JWT_SECRET=") + tradesphere::testing::kTestJwtSecret,
                                   tradesphere::testing::tradesphere_binary(),
                                   "serve",
                                   "--port",
                                   std::to_string(port)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawnp(&pid, "env", &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  bool up = false;
  for (int i = 0; i < 500 && !up; ++i) {
    RawConnection probe(port);
    up = probe.connected();
    if (!up) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(up) << "serve did not start";

  pqxx::connection blocker(owner_url());
  pqxx::work lock(blocker);
  lock.exec("SELECT 1 FROM customers WHERE id = '" + id + "' FOR UPDATE");
  RawConnection client(port);
  const std::string body = R"({"name":"Renamed During Drain"})";
  client.send("PATCH /v1/customers/" + id + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
              "Authorization: Bearer " + admin_token() + "\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n" + body);
  // The PATCH now waits for the row lock inside the server.
  for (int i = 0; i < 200; ++i) {
    auto waiting = owner_query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted");
    if (waiting[0]["n"].get<int>() > 0) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  std::this_thread::sleep_for(200ms);
  lock.abort();  // the lock goes; the request completes during the drain
  auto answer = client.read_until_closed(10s);
  EXPECT_EQ(status_of(answer.data), 200) << answer.data;
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(call("GET", "/v1/customers/" + id, viewer_token()).json()["name"], "Renamed During Drain");
}

}  // namespace
