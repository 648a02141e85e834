// A throw-away company inside a scale's database (see bench_common.hpp).
#include <atomic>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench_common.hpp"
#include "devdata/seed_generator.hpp"

namespace tradesphere::bench {

namespace {

constexpr const char* kScratchPrefix = "bench-scratch-";
constexpr const char* kInsertCompany =
    "INSERT INTO companies (id, slug, name) VALUES (gen_random_uuid(), $1, 'Bench scratch company') RETURNING id::text";
constexpr const char* kScratchCompanies = "SELECT id::text FROM companies WHERE slug LIKE 'bench-scratch-%'";
// Every table of the schema that carries company_id (read from the catalog, so tables
// added by later migrations are included).
constexpr const char* kCompanyTables = R"SQL(
SELECT c.table_name FROM information_schema.columns c
  JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 WHERE c.table_schema = 'public' AND c.column_name = 'company_id' AND t.table_type = 'BASE TABLE'
   AND c.table_name <> 'companies'
 ORDER BY c.table_name)SQL";
constexpr const char* kActiveCustomers =
    "SELECT id::text, coalesce(name, ''), coalesce(email, ''), coalesce(phone, '') FROM customers "
    "WHERE company_id = $1::uuid AND status = 'active' ORDER BY created_at, id";
constexpr const char* kActiveCount =
    "SELECT count(*) FROM customers WHERE company_id = $1::uuid AND status = 'active'";

// As the superuser with session_replication_role = replica: no user triggers (audit rows
// are append-only, metrics triggers would recompute) and no foreign-key checks, so
// the rows go in any order; every table with company_id is emptied for the company.
void delete_company(const std::string& superuser_url, const std::string& company_id) {
  pqxx::connection su(superuser_url);
  pqxx::work tx(su);
  tx.exec("SET LOCAL session_replication_role = replica");
  for (const auto& row : tx.exec(kCompanyTables)) {
    tx.exec_params("DELETE FROM public." + tx.quote_name(row[0].as<std::string>()) + " WHERE company_id = $1::uuid",
                   company_id);
  }
  tx.exec_params("DELETE FROM companies WHERE id = $1::uuid", company_id);
  tx.commit();
}

std::atomic<int> g_counter{0};

}  // namespace

ScratchCompany::ScratchCompany(const ScaleDb& s, std::uint64_t customers, std::uint64_t chats_per_customer,
                               std::uint64_t seed)
    : s_(s) {
  const int n = g_counter++;
  slug_ = std::string(kScratchPrefix) + std::to_string(::getpid()) + "-" + std::to_string(n);
  {
    pqxx::connection owner(s.owner_url);
    pqxx::work tx(owner);
    id_ = tx.exec_params1(kInsertCompany, slug_)[0].as<std::string>();
    tx.commit();
  }
  try {
    devdata::SeedOptions o;
    o.company = slug_;
    o.customers = customers;
    o.chats_per_customer = chats_per_customer;
    // another seed than the main company's: the generator derives customer ids from it
    o.seed = seed * 1000003ULL + 7919ULL * static_cast<std::uint64_t>(n + 1);
    o.duplicate_rate = 0.05;
    auto report = devdata::seed_database(s.owner_url, o);
    tech_id_ = report.companies.at(0).tech_id;
  } catch (...) {
    delete_company(s.superuser_url, id_);
    throw;
  }
}

ScratchCompany::~ScratchCompany() {
  try {
    delete_company(s_.superuser_url, id_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "could not delete scratch company %s: %s\n", slug_.c_str(), e.what());
  }
}

std::vector<SampleRow> ScratchCompany::customers() const {
  pqxx::connection owner(s_.owner_url);
  pqxx::read_transaction tx(owner);
  std::vector<SampleRow> out;
  for (const auto& row : tx.exec_params(kActiveCustomers, id_)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>()});
  }
  return out;
}

long long ScratchCompany::active_count() const {
  pqxx::connection owner(s_.owner_url);
  pqxx::read_transaction tx(owner);
  return tx.exec_params1(kActiveCount, id_)[0].as<long long>();
}

void ScratchCompany::remove_leftovers(const ScaleDb& s) {
  std::vector<std::string> ids;
  {
    pqxx::connection su(s.superuser_url);
    pqxx::read_transaction tx(su);
    for (const auto& row : tx.exec(kScratchCompanies)) ids.push_back(row[0].as<std::string>());
  }
  for (const auto& id : ids) delete_company(s.superuser_url, id);
}

}  // namespace tradesphere::bench
