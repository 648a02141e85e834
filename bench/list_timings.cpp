// tradesphere_bench --list: one list page measured through every layer in one run
// (docs/performance.md, "List 1000 over HTTP: where the time went").
//
//   tradesphere_bench --list APP_URL OWNER_URL COMPANY_ID [--reps N] [--rounds R] [--query Q] [--only P,P]
//
// Per round, N timed calls (after 3 warm-ups) of each path, one call of each path in
// turn, so that a busy moment of the shared machine hits every path alike:
//   in_server  EXPLAIN (ANALYZE, TIMING OFF) of the repository's list statement: planning +
//              execution time as PostgreSQL reports it (no transfer, no client);
//   statement  the repository's own list statement alone (tx.exec in an open read-only
//              transaction whose settings statement already ran): the database's time
//              plus the rows' transfer to the client, no conversion;
//   sql_floor  the suite's hand-written floor statement through Database::transact;
//   transact   the repository's statement through Database::transact (begin, settings,
//              statement, commit), no conversion;
//   rows       CustomerCrudService::get_customer_rows (the statement through transact, rows
//              decoded as views);
//   rows_json  the same and the page's JSON (render_customer_page): what the route does;
//   library    CustomerCrudService::get_customers (rows -> domain objects);
//   http       GET /v1/customers?Q on the in-process server (2 workers), one keep-alive
//              client, the body received but not parsed;
//   http_parsed the same, the body parsed by nlohmann::json (what the suite's http path does).
// Prints p50/p95 per path and round, then over every round, and the ratios of the p50s.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "db/customer_list_query.hpp"
#include "services/customer_crud_service.hpp"
#include "db/database.hpp"
#include "domain/customer_filters.hpp"
#include "domain/request_context.hpp"
#include "http/customer_page_json.hpp"

namespace tradesphere::bench {

namespace {

constexpr const char* kFloor = R"SQL(
SELECT c.id, c.company_id, c.external_id, c.name, c.email, c.phone, c.address, c.notes, c.attributes,
       c.lifecycle_stage, c.tags, c.source, c.status, c.created_at, c.updated_at, c.version,
       m.conversation_count, m.message_count, m.first_contact_at, m.last_contact_at, m.last_message_preview
  FROM customers c LEFT JOIN customer_metrics m ON m.company_id = c.company_id AND m.customer_id = c.id
 WHERE c.company_id = $1::uuid AND c.status = 'active'
 ORDER BY c.created_at DESC, c.id DESC LIMIT 1000)SQL";

long long touch(const pqxx::result& r) {
  long long bytes = 0;
  for (const auto& row : r) {
    for (const auto& f : row) bytes += static_cast<long long>(f.size());
  }
  return bytes > 0 ? static_cast<long long>(r.size()) : 0;
}

}  // namespace

int list_only(const std::string& app_url, const std::string& owner_url, const std::string& company, int reps,
              int rounds, const std::string& query, const std::string& only) {
  namespace ts = tradesphere;
  ts::db::Database db(ts::db::PoolOptions{app_url, 2});
  ts::services::CustomerCrudService repo(db);
  ts::domain::RequestContext ctx{company, "bench-list", ts::domain::Role::kAdmin, "bench-list"};
  std::map<std::string, std::string> params;
  for (std::size_t at = 0; at < query.size();) {
    auto amp = query.find('&', at);
    if (amp == std::string::npos) amp = query.size();
    const auto item = query.substr(at, amp - at);
    const auto eq = item.find('=');
    params[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
    at = amp + 1;
  }
  const auto filters = ts::domain::parse_customer_filters(params);
  const std::string limit_plus_one = std::to_string(filters.limit + 1);
  const std::string& sql = ts::db::customer_list_sql(filters.sort, filters.descending);
  const std::optional<std::string> none;

  ScaleDb s;
  s.app_url = app_url;
  s.owner_url = owner_url;
  s.company_id = company;
  HttpHarness http(s, company);

  // the statement alone: one connection, one open transaction, settings as the app sets them
  pqxx::connection conn(app_url);
  pqxx::read_transaction stx(conn);
  stx.exec_params(
      "SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'bench-list', true), "
      "set_config('app.role', 'admin', true), set_config('statement_timeout', '5000', true)",
      company);
  // EXPLAIN ANALYZE of the same statement: the time PostgreSQL itself reports (planning +
  // execution, no transfer to the client); timed as reported, not by the clock.
  double reported_ms = -1;
  const std::string explain = "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY, FORMAT JSON) " + sql;
  auto in_server = [&] {
    const auto r = stx.exec_params1(explain, company, none, none, none, none, none, none, none, none, none, none, none,
                                    "false", none, none, limit_plus_one, "false", none);
    const auto plan = nlohmann::json::parse(r[0].c_str())[0];
    reported_ms = plan["Planning Time"].get<double>() + plan["Execution Time"].get<double>();
    return plan["Plan"]["Actual Rows"].get<long long>();
  };
  auto statement = [&] {
    return touch(stx.exec_params(sql, company, none, none, none, none, none, none, none, none, none, none, none,
                                 "false", none, none, limit_plus_one, "false", none));
  };
  auto transact = [&] {
    return db.transact(
        ctx, "bench_list_statement",
        [&](ts::db::Tx& tx) {
          return touch(tx.exec(sql, company, none, none, none, none, none, none, none, none, none, none, none, "false",
                               none, none, limit_plus_one, "false", none));
        },
        ts::db::TxMode::kReadOnly);
  };
  auto floor = [&] {
    return db.transact(
        ctx, "bench_list_floor", [&](ts::db::Tx& tx) { return touch(tx.exec(kFloor, company)); },
        ts::db::TxMode::kReadOnly);
  };
  auto library = [&] { return static_cast<long long>(repo.get_customers(ctx, filters).items.size()); };
  auto rows = [&] { return static_cast<long long>(repo.get_customer_rows(ctx, filters).items.size()); };
  auto rows_json = [&] {
    return static_cast<long long>(ts::http::render_customer_page(repo.get_customer_rows(ctx, filters)).size());
  };
  const std::string path = "/v1/customers?" + query;
  auto web = [&] { return http.get_bytes(path); };
  auto web_parsed = [&] { return http.get_items(path); };

  struct Path {
    const char* name;
    std::function<long long()> fn;
    Stats all;
  };
  std::vector<Path> paths = {{"in_server", in_server, {}},
                             {"statement", statement, {}},
                             {"transact", transact, {}},
                             {"sql_floor", floor, {}},
                             {"rows", rows, {}},
                             {"rows_json", rows_json, {}},
                             {"library", library, {}},
                             {"http", web, {}},
                             {"http_parsed", web_parsed, {}}};
  if (!only.empty()) {
    // --only a,b: just those paths (e.g. under perf)
    std::vector<std::string> wanted;
    for (std::size_t at = 0; at <= only.size();) {
      auto comma = only.find(',', at);
      if (comma == std::string::npos) comma = only.size();
      wanted.push_back(only.substr(at, comma - at));
      at = comma + 1;
    }
    std::erase_if(paths,
                  [&](const Path& p) { return std::find(wanted.begin(), wanted.end(), p.name) == wanted.end(); });
  }
  std::printf("GET %s, %d rounds x %d calls per path (one call of each path in turn)\n", path.c_str(), rounds, reps);
  for (auto& p : paths) {
    for (int i = 0; i < 3; ++i) p.fn();  // warm-up
  }
  for (int round = 1; round <= rounds; ++round) {
    std::vector<Stats> stats(paths.size());
    std::vector<long long> rows(paths.size());
    for (int i = 0; i < reps; ++i) {
      for (std::size_t k = 0; k < paths.size(); ++k) {
        reported_ms = -1;
        const auto t0 = Clock::now();
        rows[k] = paths[k].fn();
        const double wall = ms_since(t0);
        stats[k].ms.push_back(reported_ms >= 0 ? reported_ms : wall);
      }
    }
    for (std::size_t k = 0; k < paths.size(); ++k) {
      auto& p = paths[k];
      p.all.ms.insert(p.all.ms.end(), stats[k].ms.begin(), stats[k].ms.end());
      std::printf("round %d  %-12s p50 %7.2f  p95 %7.2f ms  (rows/bytes %lld)\n", round, p.name, stats[k].pct(50),
                  stats[k].pct(95), rows[k]);
    }
    std::fflush(stdout);
  }
  std::printf("all rounds (%d calls each):\n", rounds * reps);
  for (const auto& p : paths) {
    std::printf("  %-12s p50 %7.2f  p95 %7.2f  min %7.2f ms\n", p.name, p.all.pct(50), p.all.pct(95), p.all.pct(0));
  }
  auto p50 = [&](const char* n) {
    for (const auto& p : paths) {
      if (std::string(p.name) == n) return p.all.pct(50);
    }
    return 0.0;
  };
  if (paths.size() == 9) {
    std::printf(
        "ratios of p50: http/library %.2f  http/statement %.2f  http/in_server %.2f  http/transact %.2f  "
        "library/statement %.2f\n",
        p50("http") / p50("library"), p50("http") / p50("statement"), p50("http") / p50("in_server"),
        p50("http") / p50("transact"), p50("library") / p50("statement"));
  }
  stx.commit();
  return 0;
}

int list_only(const std::string& app_url, const std::string& owner_url, const std::string& company, int reps,
              int rounds, const std::string& query) {
  return list_only(app_url, owner_url, company, reps, rounds, query, "");
}

}  // namespace tradesphere::bench
