// Shared types of the benchmark suite driver (tradesphere_bench; docs/performance.md).
//   suite_benchmark.cpp  main, database preparation, read ops (list, search, details, bulk, SQL ingest)
//   scratch_company.cpp  a throw-away company inside a scale's database (HTTP ingest, merge, load)
//   write_ops.cpp        chat ingest through POST /v1/chat, duplicates, merge + undo
//   load.cpp             the concurrent load against `tradesphere serve` as a separate process
//   report.cpp           JSON, markdown and SVG writers
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace tradesphere::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Stats {
  std::vector<double> ms;
  double pct(double p) const {
    if (ms.empty()) return 0;
    auto v = ms;
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
  double mean() const {
    double s = 0;
    for (double x : ms) s += x;
    return ms.empty() ? 0 : s / static_cast<double>(ms.size());
  }
};

struct Result {
  std::string op, path;
  Stats stats;
  long long rows = -1;     // rows returned by the last repetition
  long long expected = -1;  // -1: not checked
  bool at_least = false;   // expected is a lower bound
  std::optional<double> rows_per_second;
  std::optional<double> queries;
  std::string note;
  bool skipped = false;                 // not run (see note); estimated_ms may say what it would cost
  std::optional<double> estimated_ms;
  bool ok() const { return skipped || expected < 0 || (at_least ? rows >= expected : rows == expected); }
};

inline Result mk(std::string op, std::string path, long long expected, bool at_least = false) {
  Result r;
  r.op = std::move(op);
  r.path = std::move(path);
  r.expected = expected;
  r.at_least = at_least;
  return r;
}

struct Config {
  std::string data_dir = "var/bench";
  std::vector<std::string> scales = {"1k", "100k"};
  std::string out = "bench/results";
  bool quick = false;
  bool smoke = false;
  bool explain = true;  // auto_explain plans of the real repository statements (not in --quick)
  int reps = 30;
  double legacy_budget_s = 40;
  long long legacy_max_customers = 20000;  // above: the N+1 list/search is estimated, not run
  std::optional<std::uint64_t> chats_per_customer;  // default: 10 (3 with --quick, and at 1M and above)
  std::uint64_t seed = 42;
  std::string date;
  double op_budget_s = 90;   // per op and path: repetitions stop after this many seconds (1M scale)
  double load_seconds = 60;  // --quick: 3
  int load_clients = 8;
  std::string server_binary;  // `tradesphere` for the load; default: the build's own
};

// A scale's database: the seeded company and how to reach it.
struct ScaleDb {
  std::string name;
  std::string app_url, owner_url, superuser_url;
  std::string company_id, tech_id;
  std::uint64_t customers = 0, chat_rows = 0;
  double seed_seconds = 0, seed_rows_per_second = 0;
  bool cached = false;
};

// A customer of the seeded company: id, name, email, phone.
using SampleRow = std::vector<std::string>;

// Time `fn` `reps` times after `warmup` runs; fn returns the row count. With budget_s > 0
// the repetitions stop once that many seconds are spent (at least one timed call), and
// warm-up stops after the first call when that call alone took a quarter of the budget.
template <typename F>
void measure(Result& r, int reps, int warmup, F&& fn, double budget_s = 0) {
  for (int i = 0; i < warmup; ++i) {
    const auto t0 = Clock::now();
    r.rows = fn();
    if (budget_s > 0 && std::chrono::duration<double>(Clock::now() - t0).count() > budget_s / 4) break;
  }
  const auto started = Clock::now();
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    r.rows = fn();
    r.stats.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (budget_s > 0 && std::chrono::duration<double>(Clock::now() - started).count() > budget_s) break;
  }
}

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string url_encode(const std::string& v);
std::string digits_of(const std::string& s);
std::string fmt(double v, int prec = 2);

// ---- http_harness.cpp --------------------------------------------------------
// The real HTTP server (http::Server, 2 worker threads) in this process on a loopback
// port, called with one keep-alive client and a bearer token (admin) of `company_id`.
class HttpHarness {
 public:
  HttpHarness(const ScaleDb& s, const std::string& company_id);
  ~HttpHarness();
  HttpHarness(const HttpHarness&) = delete;
  HttpHarness& operator=(const HttpHarness&) = delete;
  // Items in the JSON body of a 200 answer; -1 otherwise.
  long long get_items(const std::string& path);
  // Bytes of the body of a 200 answer (not parsed); -1 otherwise.
  long long get_bytes(const std::string& path);
  // POST with a JSON body; returns the status (-1: no answer) and the parsed body (null when not JSON).
  int post_json(const std::string& path, const std::string& body, json& response);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- scratch_company.cpp ----------------------------------------------------
// A company created for the run inside the scale's database, seeded with a few
// customers (seed generator, another seed so no id collides with the main company),
// and deleted with every row that carries its company_id when destroyed: writes
// through HTTP (which cannot be rolled back) land here, so the seeded company stays
// exactly as seeded for later ops and later runs.
class ScratchCompany {
 public:
  ScratchCompany(const ScaleDb& s, std::uint64_t customers, std::uint64_t chats_per_customer, std::uint64_t seed);
  ~ScratchCompany();
  ScratchCompany(const ScratchCompany&) = delete;
  ScratchCompany& operator=(const ScratchCompany&) = delete;

  const std::string& id() const { return id_; }
  const std::string& slug() const { return slug_; }
  const std::string& tech_id() const { return tech_id_; }
  // Active customers (id, name, email, phone) ordered by created_at, id.
  std::vector<SampleRow> customers() const;
  long long active_count() const;

  // Deletes every company whose slug starts with the scratch prefix (left by a killed run).
  static void remove_leftovers(const ScaleDb& s);

 private:
  const ScaleDb& s_;
  std::string id_, slug_, tech_id_;
};

// ---- write_ops.cpp ----------------------------------------------------------
// POST /v1/chat in batches (into a scratch company), bulk duplicates over the seeded
// company, merge + undo of customer pairs (in a scratch company).
std::vector<Result> run_write_ops(const Config& cfg, const ScaleDb& s, long long active_customers,
                                  ScratchCompany& scratch);

// ---- load.cpp -----------------------------------------------------------------
// `tradesphere serve` as a child process, N keep-alive clients for cfg.load_seconds;
// appends one Result per request type and returns the summary (throughput, errors, RSS).
json run_load(const Config& cfg, const ScaleDb& s, const std::vector<SampleRow>& sample, long long active_customers,
              const ScratchCompany& scratch, std::vector<Result>& out);
// --load: the same load against an existing company of a migrated database (a scratch
// company for the ingest is made and deleted); prints the summary; 0 when every answer was right.
int load_only(const Config& cfg, const std::string& app_url, const std::string& owner_url,
              const std::string& superuser_url, const std::string& company);

// ---- list_timings.cpp -------------------------------------------------------
// --list: one list page through the statement, the library and HTTP, interleaved rounds.
int list_only(const std::string& app_url, const std::string& owner_url, const std::string& company, int reps,
              int rounds, const std::string& query, const std::string& only);
int list_only(const std::string& app_url, const std::string& owner_url, const std::string& company, int reps,
              int rounds, const std::string& query);

// ---- report.cpp ---------------------------------------------------------------
json machine_info();
json to_json(const Config& cfg, const std::string& scale, const ScaleDb& s, const std::vector<Result>& results,
             const json& load);
std::string to_markdown(const json& j);
void write_svg(const std::string& path, const std::vector<json>& runs);

}  // namespace tradesphere::bench
