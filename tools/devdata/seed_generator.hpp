// `tradesphere-dev seed`: deterministic, realistic test data loaded with COPY.
// Development data: not part of the product (tools/devdata, never linked into
// `tradesphere`); like the tests, it talks to the database with libpqxx directly.
//
// New shape (default): per company, one transaction as the schema owner that
//   1. disables the per-row USER triggers of customers and "VC Usage" (for chat rows
//      that already carry customer_id only the metrics trigger would work), and lifts
//      FORCE ROW LEVEL SECURITY of both (COPY refuses a table whose RLS applies to
//      the caller) — ALTER TABLE takes an ACCESS EXCLUSIVE lock,
//      so no other writer can slip past the triggers; all restored before COMMIT;
//   2. COPYs the customers (ids generated from the seed), then writes set-based
//      exactly what the triggers would have written: matching keys, 'created'
//      events and audit rows;
//   3. COPYs the chat rows already carrying customer_id (so the sync trigger does
//      not fire), adds the 'conversation_linked' events and calls
//      rebuild_customer_metrics(company).
// customer_metrics_drift(company) is empty afterwards (tested).
// Legacy shape (--legacy): the tables of migration 0001 only — companies,
// app_users, customers (id, company_id, name, email, phone, created_at) and
// "VC Usage" rows without company_id/customer_id — for upgrade rehearsals.
//
// Same (seed, company index, counts, duplicate rate) -> the same rows, ids,
// timestamps and texts; only company ids (gen_random_uuid) and "VC Usage".id
// (a sequence) depend on the database.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tradesphere::devdata {

struct SeedOptions {
  std::string company = "new";           // slug of an existing company, or "new"
  int companies = 1;                     // with "new": how many companies to create
  std::uint64_t customers = 1000;        // per company, duplicates included
  std::uint64_t chats_per_customer = 5;  // chat rows per customer
  double duplicate_rate = 0.05;          // share of customers that are a corrupted copy of an earlier one
  std::uint64_t seed = 1;
  bool legacy = false;
};

struct SeededCompany {
  std::string id;
  std::string slug;
  std::string tech_id;  // an admin user of the company (app_users), for the legacy facade
  std::uint64_t customers = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t chat_rows = 0;
};

struct SeedReport {
  std::vector<SeededCompany> companies;
  std::uint64_t customers = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t chat_rows = 0;
  double seconds = 0;
  double rows_per_second = 0;  // customers + chat rows over the whole run (set-based steps included)
};

struct SeedProgress {
  std::string phase;  // "customers", "chats", "derived", "analyze"
  std::string company;
  std::uint64_t rows_done = 0;
  std::uint64_t rows_total = 0;
  double rows_per_second = 0;
};

// Throws std::invalid_argument for bad options, std::runtime_error (or a pqxx
// error) when the database refuses; nothing of a failed company is left behind.
SeedReport seed_database(const std::string& admin_url, const SeedOptions& options,
                         const std::function<void(const SeedProgress&)>& progress = {});

}  // namespace tradesphere::devdata
