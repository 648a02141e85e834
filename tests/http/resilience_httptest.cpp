// Database trouble seen from HTTP: a statement that runs past the statement
// timeout (here: it waits for a row lock held by another session; lock waits
// count toward statement_timeout) answers 503 problem+json without internals,
// and its connection goes back to the pool.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/database.hpp"
#include "http/api_services.hpp"
#include "support/http_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::testing::HttpResponse;
using tradesphere::testing::HttpTest;

class StatementTimeoutHttpTest : public HttpTest {
 protected:
  static constexpr int kPoolSize = 4;

  void configure(tradesphere::http::ServerOptions& o) override {
    tradesphere::db::PoolOptions pool;
    pool.url = o.database.app_url;
    pool.size = kPoolSize;
    pool.statement_timeout = std::chrono::milliseconds(500);
    o.threads = kPoolSize;
    services_ = tradesphere::http::make_api_services(pool);
    o.services = services_;
  }
  tradesphere::db::ConnectionPool& pool() { return services_->database->pool(); }

  std::shared_ptr<tradesphere::http::ApiServices> services_;
};

TEST_F(StatementTimeoutHttpTest, ALockWaitPastTheTimeoutAnswers503AndReturnsTheConnection) {
  auto created = call_json("POST", "/v1/customers", agent_token(), {{"name", "Locked Out"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];

  // Another session holds the row lock, so the PATCH's UPDATE waits until the
  // statement timeout cancels it.
  pqxx::connection blocker(owner_url());
  pqxx::work lock(blocker);
  lock.exec("SELECT 1 FROM customers WHERE id = '" + id + "' FOR UPDATE");

  auto r = call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"name", "Never Stored"}},
                     {{"If-Match", "\"1\""}, {"X-Request-Id", "probe-503-a"}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(r.header("Retry-After"), "1");
  const auto body = r.json();
  EXPECT_EQ(body["type"], "urn:tradesphere:problem:unavailable");
  EXPECT_EQ(body["status"], 503);
  EXPECT_EQ(body["instance"], "probe-503-a");
  for (const char* leak : {"statement", "timeout", "cancel", "57014", "customers", "lock", "SQL", "pqxx"}) {
    EXPECT_EQ(r.body.find(leak), std::string::npos) << "the 503 shows internals (" << leak << "): " << r.body;
  }
  lock.abort();

  // The failed unit gave its connection back (still usable: not discarded).
  EXPECT_EQ(pool().in_use(), 0);
  EXPECT_GE(pool().open_connections(), 1);
  EXPECT_LE(pool().open_connections(), kPoolSize);

  // The server and the pool carry on: more requests than connections, all fine,
  // and the timed-out PATCH changed nothing (version 1 still matches).
  for (int i = 0; i < 3 * kPoolSize; ++i) {
    auto got = call("GET", "/v1/customers/" + id, viewer_token());
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json()["name"], "Locked Out");
    EXPECT_EQ(got.json()["version"], 1);
  }
  auto patched = call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"name", "Stored"}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["version"], 2);
  EXPECT_EQ(pool().in_use(), 0);
  EXPECT_LE(pool().open_connections(), kPoolSize);

  // /metrics counts the failed unit of work under its method.
  auto metrics = call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tradesphere_db_transaction_failures_total{method=\"update_customer\"}"),
            std::string::npos);
}

TEST_F(StatementTimeoutHttpTest, ConcurrentTimeoutsLeakNoConnection) {
  auto created = call_json("POST", "/v1/customers", agent_token(), {{"name", "Hot Row"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  pqxx::connection blocker(owner_url());
  pqxx::work lock(blocker);
  lock.exec("SELECT 1 FROM customers WHERE id = '" + id + "' FOR UPDATE");

  // As many waiting writers as there are connections: every one times out.
  std::vector<HttpResponse> answers(kPoolSize);
  std::vector<std::thread> writers;
  for (int i = 0; i < kPoolSize; ++i) {
    writers.emplace_back([&, i] {
      answers[i] = call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", "lead"}});
    });
  }
  for (auto& t : writers) t.join();
  lock.abort();
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 503) << a.body;
    EXPECT_EQ(a.json()["type"], "urn:tradesphere:problem:unavailable");
  }
  EXPECT_EQ(pool().in_use(), 0);
  EXPECT_LE(pool().open_connections(), kPoolSize);
  auto stage = call_json("PUT", "/v1/customers/" + id + "/stage", agent_token(), {{"lifecycle_stage", "lead"}});
  ASSERT_EQ(stage.status, 200) << stage.body;
  EXPECT_EQ(stage.json()["version"], 2);
}

}  // namespace

namespace {

// One database connection, a short bounded wait for it, a long statement
// timeout: a request that finds the pool empty answers 503 after the bounded
// wait, not after the statement timeout of the request holding the connection.
class PoolExhaustionHttpTest : public HttpTest {
 protected:
  void configure(tradesphere::http::ServerOptions& o) override {
    tradesphere::db::PoolOptions pool;
    pool.url = o.database.app_url;
    pool.size = 1;
    pool.acquire_timeout = std::chrono::milliseconds(300);
    pool.statement_timeout = std::chrono::milliseconds(20000);
    o.threads = 4;
    services_ = tradesphere::http::make_api_services(pool);
    o.services = services_;
  }
  std::shared_ptr<tradesphere::http::ApiServices> services_;
};

TEST_F(PoolExhaustionHttpTest, AnEmptyPoolAnswers503WithRetryAfterAfterTheBoundedWait) {
  auto created = call_json("POST", "/v1/customers", agent_token(), {{"name", "Held"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  pqxx::connection blocker(owner_url());
  pqxx::work lock(blocker);
  lock.exec("SELECT 1 FROM customers WHERE id = '" + id + "' FOR UPDATE");
  // This PATCH holds the only connection while it waits for the row lock.
  HttpResponse holder;
  std::thread t([&] {
    holder = call_json("PATCH", "/v1/customers/" + id, agent_token(), {{"name", "After"}}, {{"If-Match", "\"1\""}});
  });
  for (int i = 0; i < 500; ++i) {
    auto waiting = owner_query("SELECT count(*) AS n FROM pg_locks WHERE NOT granted");
    if (waiting[0]["n"].get<int>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto started = std::chrono::steady_clock::now();
  auto refused = call("GET", "/v1/customers/" + id, viewer_token());
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_EQ(refused.json()["type"], "urn:tradesphere:problem:unavailable");
  // A liveness bound: without the bounded wait it would answer after the holder (20 s).
  EXPECT_LT(waited, std::chrono::seconds(5));
  lock.abort();
  t.join();
  EXPECT_EQ(holder.status, 200) << holder.body;
  auto metrics = call("GET", "/metrics");
  EXPECT_NE(metrics.body.find(R"(tradesphere_http_unavailable_total{cause="database"})"), std::string::npos);
}

}  // namespace

namespace {

json chat_row(const std::string& session, const std::string& email) {
  return {{"session_id", session}, {"tech_id", "tech-1"},      {"user_message", "Hello"},
          {"ai_response", "Hi"},   {"customer_email", email}, {"customer_name", "Batch Person"}};
}

// A database failure at the batch's last record stores none of its records, and
// the client's retry with the same Idempotency-Key stores each exactly once.
TEST_F(StatementTimeoutHttpTest, AChatBatchIsStoredWhollyOrNotAtAll) {
  auto created = call_json("POST", "/v1/customers", agent_token(), {{"name", "Busy"}, {"email", "busy@example.com"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string busy = created.json()["id"];
  const json batch = json::array({chat_row("batch-1", "first@example.com"), chat_row("batch-2", "second@example.com"),
                                  chat_row("batch-3", "busy@example.com")});
  auto stored_rows = [&] {
    return owner_query("SELECT count(*) AS n FROM \"VC Usage\" WHERE session_id LIKE 'batch-%'")[0]["n"].get<int>();
  };
  {
    // The last record's customer is locked elsewhere: its metrics update waits past the timeout.
    pqxx::connection blocker(owner_url());
    pqxx::work lock(blocker);
    lock.exec("SELECT 1 FROM customers WHERE id = '" + busy + "' FOR UPDATE");
    lock.exec("SELECT 1 FROM customer_metrics WHERE customer_id = '" + busy + "' FOR UPDATE");
    auto failed = call_json("POST", "/v1/chat", agent_token(), batch, {{"Idempotency-Key", "batch-key-1"}});
    EXPECT_EQ(failed.status, 503) << failed.body;
    EXPECT_EQ(stored_rows(), 0) << "records 1 and 2 were stored although the batch failed";
    EXPECT_EQ(owner_query("SELECT count(*) AS n FROM customers WHERE email IN ('first@example.com', "
                          "'second@example.com')")[0]["n"],
              0);
    lock.abort();
  }
  auto retried = call_json("POST", "/v1/chat", agent_token(), batch, {{"Idempotency-Key", "batch-key-1"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  ASSERT_EQ(retried.json()["items"].size(), 3u);
  EXPECT_EQ(retried.json()["items"][2]["customer_id"], busy);
  EXPECT_EQ(stored_rows(), 3);
  auto replay = call_json("POST", "/v1/chat", agent_token(), batch, {{"Idempotency-Key", "batch-key-1"}});
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(stored_rows(), 3) << "a replay stores nothing";
}

}  // namespace
