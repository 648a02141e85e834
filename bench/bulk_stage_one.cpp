// One bulk stage update of N active customers through the product's path
// (db::CustomerRepository::bulk_update_lifecycle_stage, the statement the
// services run), as the application role with the tenant set, in a transaction
// that is rolled back: bench/write_path/ab.sh's "stage" measurement.
//
//   tradesphere_bulkstage --url SUPERUSER_URL --company UUID --tag T [--stage churned] [--ids 1000]
//                         [--setup FILE] [--statement FILE]
//
// --setup: SQL run first in the same transaction as the superuser (e.g. down
// migrations); then the transaction continues as tradesphere_app. --statement: run
// this statement ($1 company, $2 jsonb array of ids, $3 stage) instead of the
// repository's, for the "before" side of an A/B (ab.sh takes it from git history,
// so no statement is restated here). Prints one line: milliseconds of the update,
// then the transaction's updated and HOT-updated customer rows.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "db/customer_repository.hpp"
#include "db/database.hpp"
#include "domain/customer.hpp"

namespace ts = tradesphere;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time one bulk stage update through the repository, rolled back"};
  std::string url, company, tag, stage = "churned", setup, statement;
  int n_ids = 1000;
  app.add_option("--url", url, "Superuser URL (the setup may need it; the update runs as tradesphere_app)")
      ->required();
  app.add_option("--company", company, "Company id")->required();
  app.add_option("--tag", tag, "Chooses the customers (ORDER BY md5(id || tag))")->required();
  app.add_option("--stage", stage, "Target lifecycle stage")->capture_default_str();
  app.add_option("--ids", n_ids, "Customers to update")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--setup", setup, "SQL file run first in the same transaction, as the superuser");
  app.add_option("--statement", statement, "Run this statement instead of the repository's (the A/B's before)");
  CLI11_PARSE(app, argc, argv);

  pqxx::connection conn(url);
  pqxx::work work(conn);
  work.exec_params(
      "SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'bench', true), "
      "set_config('app.role', 'admin', true)",
      company);
  if (!setup.empty()) work.exec(read_file(setup));
  work.exec("SET LOCAL ROLE tradesphere_app");
  std::vector<std::string> ids;
  for (const auto& r : work.exec_params(
           "SELECT id::text FROM customers WHERE company_id = $1::uuid AND status = 'active' "
           "AND lifecycle_stage <> $2 ORDER BY md5(id::text || $3) LIMIT $4",
           company, stage, tag, n_ids)) {
    ids.push_back(r[0].as<std::string>());
  }

  const auto t0 = std::chrono::steady_clock::now();
  if (statement.empty()) {
    std::atomic<std::uint64_t> statements{0};
    ts::db::Tx tx(work, statements);
    ts::db::CustomerRepository().bulk_update_lifecycle_stage(tx, company, ids,
                                                             ts::domain::parse_lifecycle_stage(stage));
  } else {
    work.exec_params(read_file(statement), company, nlohmann::json(ids).dump(), stage);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const auto stats =
      work.exec1("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers'");
  std::printf("%.3f %lld %lld\n", ms, stats[0].as<long long>(), stats[1].as<long long>());
  work.abort();
  return 0;
}
