// Scoring one customer's duplicate candidates (issue 13 target: <= 5 ms at 1M):
// what the maintained queue does when a customer is created or changed. For
// `--reps` random active customers of the company: queue it (as the owner, as the
// 0016 triggers do), then time CustomerMergeService::process_duplicate_queue(1):
// load the customer, store its blocking keys, look up and score its candidates,
// replace its stored pairs; one transaction.
//
//   tradesphere_dupone --url APP_URL --admin-url OWNER_URL --company UUID [--reps 200]
//
// The company's queue must be empty (it is after `tradesphere duplicates rebuild`);
// the tool says which candidate lookup the company uses (the stored blocking index
// once a rebuild has written it, else the trigram lookup of migration 0011).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <pqxx/pqxx>

#include "common/json_log.hpp"
#include "db/database.hpp"
#include "domain/request_context.hpp"
#include "services/customer_merge_service.hpp"

namespace ts = tradesphere;

int main(int argc, char** argv) {
  CLI::App app{"Time the scoring of one customer's duplicate candidates"};
  std::string url, admin_url, company;
  int reps = 200;
  app.add_option("--url", url, "Application role URL")->required();
  app.add_option("--admin-url", admin_url, "Owner role URL (queues the customers)")->required();
  app.add_option("--company", company, "Company id")->required();
  app.add_option("--reps", reps, "Customers to score")->check(CLI::Range(1, 100000));
  CLI11_PARSE(app, argc, argv);
  ts::common::init_logging("warn");

  pqxx::connection owner(admin_url);
  std::vector<std::string> ids;
  bool indexed = false;
  {
    pqxx::work w(owner);
    if (w.exec_params1("SELECT count(*) FROM duplicate_queue WHERE company_id = $1", company)[0].as<long>() != 0) {
      std::fprintf(stderr, "the company's duplicate queue is not empty: run `tradesphere duplicates rebuild` first\n");
      return 2;
    }
    indexed = !w.exec_params("SELECT 1 FROM duplicate_blocking_companies WHERE company_id = $1", company).empty();
    for (const auto& r : w.exec_params(
             "SELECT id::text FROM customers TABLESAMPLE SYSTEM (1) REPEATABLE (42) "
             " WHERE company_id = $1 AND status = 'active' LIMIT $2",
             company, reps))
      ids.push_back(r[0].as<std::string>());
  }
  if (ids.empty()) {
    std::fprintf(stderr, "no active customer sampled\n");
    return 2;
  }
  ts::db::Database db(ts::db::PoolOptions{url, 1});
  ts::services::CustomerMergeService merge(db);
  ts::domain::RequestContext ctx{company, "bench-dupone", ts::domain::Role::kAdmin, "bench-dupone"};
  // The pairs (>= 0.6, the default threshold) the customer has before and after:
  // after a rebuild, "before" is the whole-company scan's answer, so the
  // difference measures how far scoring one customer strays from it.
  auto pairs_of = [&](const std::string& id) {
    pqxx::work w(owner);
    std::set<std::string> out;
    for (const auto& r : w.exec_params(
             "SELECT CASE WHEN customer_a = $2 THEN customer_b ELSE customer_a END::text FROM duplicate_candidates "
             " WHERE company_id = $1 AND (customer_a = $2 OR customer_b = $2) AND score >= 0.6",
             company, id))
      out.insert(r[0].as<std::string>());
    return out;
  };
  std::vector<double> ms;
  std::size_t before_total = 0, kept = 0, added = 0;
  for (const auto& id : ids) {
    const auto before = pairs_of(id);
    {
      pqxx::work w(owner);
      w.exec_params("INSERT INTO duplicate_queue (company_id, customer_id) VALUES ($1, $2)", company, id);
      w.commit();
    }
    const auto t0 = std::chrono::steady_clock::now();
    merge.process_duplicate_queue(ctx, 1);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    const auto after = pairs_of(id);
    before_total += before.size();
    for (const auto& x : after) (before.count(x) ? kept : added) += 1;
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p / 100.0 * ms.size()))]; };
  std::printf("lookup %s: %zu customers scored one at a time: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f ms\n",
              indexed ? "stored blocking index (0022)" : "trigram (0011)", ms.size(), pct(50), pct(95), pct(99),
              ms.back());
  std::printf("pairs >= 0.6 of these customers: %zu before, %zu of them found again, %zu new\n", before_total, kept,
              added);
  return 0;
}
