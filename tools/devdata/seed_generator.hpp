// `tradesphere-dev seed`: deterministic, realistic test data loaded with COPY and
// the product's set-based INSERT … SELECT.
// Development data: not part of the product (tools/devdata, never linked into
// `tradesphere`); like the tests, it talks to the database with libpqxx directly.
//
// New shape (default): per company, one transaction as the schema owner, inside
// the company's tenant (app.company_id), that goes through the product's
// set-based insert path with every trigger ON and row-level security forced:
//   1. COPYs the customers (ids generated from the seed) into a temporary table and
//      moves them with one INSERT INTO customers … SELECT: the statement-level
//      triggers write the audit rows, matching keys, 'created' events, metrics and
//      search rows and the duplicate queue entries (customers_after_insert,
//      customers_duplicate_enqueue_new);
//   2. COPYs the chat rows, already carrying customer_id (so the matching does not
//      run), into a temporary table and moves them with one INSERT INTO "VC Usage"
//      … SELECT: vc_usage_after_insert_statement (0034) applies their metrics and
//      writes the 'conversation_linked' events.
// Nothing the triggers write is restated here.
// customer_metrics_drift(company) is empty afterwards (tested).
// Legacy shape (--legacy): the tables of migration 0001 only — companies,
// app_users, customers (id, company_id, name, email, phone, created_at) and
// "VC Usage" rows without company_id/customer_id — for upgrade rehearsals.
//
// Same (seed, company index, counts, duplicate rate) -> the same rows, ids,
// timestamps and texts; only company ids (gen_random_uuid), "VC Usage".id (a
// sequence) and what the triggers stamp with now() (customers.updated_at, the
// events' created_at) depend on the database.
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
