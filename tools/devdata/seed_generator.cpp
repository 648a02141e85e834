#include "devdata/seed_generator.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include "db/company_repository.hpp"
#include "db/database.hpp"
#include "devdata/fake_data.hpp"

namespace tradesphere::devdata {
namespace {


// Streams of the generator (FakeRng(seed, company * kStreams + stream, index)).
constexpr std::uint64_t kStreams = 8;
constexpr std::uint64_t kIdStream = 0;
constexpr std::uint64_t kPersonStream = 1;
constexpr std::uint64_t kAttrStream = 2;
constexpr std::uint64_t kDupStream = 3;
constexpr std::uint64_t kChatStream = 4;

constexpr std::time_t kBaseEpoch = 1767225600;  // 2026-01-01T00:00:00Z: fixed, so timestamps are deterministic
constexpr std::time_t kTwoYears = 2 * 365 * 86400;
constexpr std::uint64_t kProgressEvery = 50000;

constexpr const char* kCheckLegacyShape = R"SQL(
SELECT EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = 'customers' AND column_name = 'lifecycle_stage')
)SQL";
// Companies and users go through db::CompanyRepository (lookup by slug, insert,
// user upsert), which reads a database at version 1 too. Only the legacy shape's
// insert is here: migration 0001's companies have no default_country_code.
constexpr const char* kInsertLegacyCompany =
    "INSERT INTO companies (id, slug, name) VALUES (gen_random_uuid(), $1, $2) RETURNING id::text";
// The product's set-based insert path, triggers ON and row-level security forced:
// the rows are COPYed into temporary tables (no RLS, no triggers there), then moved
// with one multi-row INSERT … SELECT per table, inside the company's tenant
// (app.company_id, so the RLS policies pass). The statement-level triggers write
// everything derived — customers_after_insert (0011/0034: audit row, matching keys,
// 'created' event, metrics row, search row), customers_duplicate_enqueue_new (0016)
// and vc_usage_after_insert_statement (0034: session counts, customer_metrics,
// 'conversation_linked' events) — exactly as for an import or a chat batch.
constexpr const char* kEnterTenant = R"SQL(
SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'seed', true),
       set_config('app.role', 'admin', true), set_config('app.correlation_id', 'seed', true)
)SQL";
constexpr const char* kCreateSeedCustomers = R"SQL(
CREATE TEMP TABLE seed_customers (
  id uuid, company_id uuid, name text, email text, phone text, address text, lifecycle_stage text,
  tags text[], source text, status text, created_at timestamptz, updated_at timestamptz,
  created_by text, updated_by text, version integer, ord bigserial) ON COMMIT DROP
)SQL";
constexpr const char* kInsertSeedCustomers = R"SQL(
INSERT INTO customers (id, company_id, name, email, phone, address, lifecycle_stage, tags, source, status,
                       created_at, updated_at, created_by, updated_by, version)
SELECT id, company_id, name, email, phone, address, lifecycle_stage, tags, source, status,
       created_at, updated_at, created_by, updated_by, version
  FROM seed_customers ORDER BY ord
)SQL";
constexpr const char* kCreateSeedChats = R"SQL(
CREATE TEMP TABLE seed_chats (
  session_id text, tech_id text, customer_name text, customer_email text, customer_phone text,
  user_message text, ai_response text, created_at timestamptz, company_id uuid, customer_id uuid,
  ord bigserial) ON COMMIT DROP
)SQL";
constexpr const char* kInsertSeedChats = R"SQL(
INSERT INTO "VC Usage" (session_id, tech_id, customer_name, customer_email, customer_phone, user_message,
                        ai_response, created_at, company_id, customer_id)
SELECT session_id, tech_id, customer_name, customer_email, customer_phone, user_message,
       ai_response, created_at, company_id, customer_id
  FROM seed_chats ORDER BY ord
)SQL";

std::string iso_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
  return buf;
}

// COPY text format: backslash, tab, newline and carriage return are escaped.
void append_field(std::string& line, const std::string& value) {
  if (!line.empty()) line += '\t';
  for (char c : value) {
    switch (c) {
      case '\\':
        line += "\\\\";
        break;
      case '\t':
        line += "\\t";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      default:
        line += c;
    }
  }
}
void append_nullable(std::string& line, const std::string& value) {
  if (value.empty()) {
    if (!line.empty()) line += '\t';
    line += "\\N";
  } else {
    append_field(line, value);
  }
}

// One generated customer (a fresh person, or a corrupted copy of an earlier one).
struct SeedCustomer {
  std::string id;
  FakePerson person;
  bool duplicate = false;
  std::time_t created_at = 0;
  std::string stage;
  std::string tags;  // COPY text of a text[]
};

class Generator {
 public:
  Generator(const SeedOptions& o, std::uint64_t company_index) : o_(o), base_(company_index * kStreams) {}

  std::string id_of(std::uint64_t i) const {
    FakeRng r(o_.seed, base_ + kIdStream, i);
    return fake_uuid(r);
  }

  FakePerson person_of(std::uint64_t i) const {
    FakeRng r(o_.seed, base_ + kPersonStream, i);
    return fake_person(r, i);
  }

  SeedCustomer customer(std::uint64_t i) const {
    SeedCustomer c;
    c.id = id_of(i);
    FakeRng dup(o_.seed, base_ + kDupStream, i);
    if (i > 0 && dup.chance(o_.duplicate_rate)) {
      c.duplicate = true;
      c.person = fake_duplicate_of(person_of(dup.below(i)), dup);
    } else {
      c.person = person_of(i);
    }
    FakeRng a(o_.seed, base_ + kAttrStream, i);
    c.created_at = kBaseEpoch - kTwoYears + static_cast<std::time_t>(a.below(kTwoYears - 30 * 86400));
    c.stage = fake_lifecycle_stage(a);
    c.tags = "{";
    const auto tags = fake_tags(a);
    for (std::size_t t = 0; t < tags.size(); ++t) c.tags += (t ? "," : "") + tags[t];
    c.tags += "}";
    return c;
  }

  // Chat rows of customer i: K rows in ceil(K/3) sessions, after the customer's creation.
  template <typename F>
  void chats(std::uint64_t i, const SeedCustomer& c, F&& emit) const {
    const std::uint64_t k = o_.chats_per_customer;
    if (k == 0) return;
    FakeRng r(o_.seed, base_ + kChatStream, i);
    const std::uint64_t sessions = (k + 2) / 3;
    const std::time_t span = kBaseEpoch - c.created_at;
    std::time_t at = c.created_at + static_cast<std::time_t>(r.below(static_cast<std::uint64_t>(span) / 4 + 1));
    for (std::uint64_t j = 0; j < k; ++j) {
      const std::uint64_t s = j * sessions / k;
      at += static_cast<std::time_t>(30 + r.below(static_cast<std::uint64_t>(span) / (4 * k) + 60));
      emit("c" + std::to_string(base_ / kStreams) + "-" + std::to_string(i) + "-" + std::to_string(s),
           fake_user_message(r), fake_ai_response(r), std::min(at, kBaseEpoch - 1));
    }
  }

 private:
  const SeedOptions& o_;
  std::uint64_t base_;
};

class Progress {
 public:
  Progress(const std::function<void(const SeedProgress&)>& cb, std::string company)
      : cb_(cb), company_(std::move(company)) {}
  void report(const std::string& phase, std::uint64_t done, std::uint64_t total) {
    if (!cb_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    cb_(SeedProgress{phase, company_, done, total, s > 0 ? static_cast<double>(done) / s : 0});
  }
  void restart() { started_ = std::chrono::steady_clock::now(); }

 private:
  const std::function<void(const SeedProgress&)>& cb_;
  std::string company_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
// tablewriter::write_raw_line: we format COPY text ourselves (stream_to keeps it private in 6.4).
template <typename F>
void copy_rows(pqxx::work& tx, const std::string& table, const std::vector<std::string>& columns, F&& produce) {
  pqxx::tablewriter writer(tx, table, columns.begin(), columns.end());
  produce([&writer](const std::string& line) { writer.write_raw_line(line); });
  writer.complete();
}
#pragma GCC diagnostic pop

// The company's chat rows in the generator's order, one COPY: into "VC Usage" itself
// (legacy shape, no company_id/customer_id) or into the staging table with both.
void copy_chat_rows(pqxx::work& tx, const std::string& table, bool linked, const Generator& gen,
                    const SeedOptions& o, SeededCompany& company, Progress& progress) {
  std::vector<std::string> columns{"session_id",     "tech_id",     "customer_name", "customer_email",
                                   "customer_phone", "user_message", "ai_response",   "created_at"};
  if (linked) {
    columns.push_back("company_id");
    columns.push_back("customer_id");
  }
  const std::uint64_t total_chats = o.customers * o.chats_per_customer;
  copy_rows(tx, table, columns, [&](auto&& write) {
    std::string line;
    for (std::uint64_t i = 0; i < o.customers; ++i) {
      const SeedCustomer c = gen.customer(i);
      gen.chats(i, c, [&](const std::string& session, const std::string& msg, const std::string& reply,
                          std::time_t at) {
        line.clear();
        append_field(line, session);
        append_field(line, company.tech_id);
        append_nullable(line, c.person.name);
        append_nullable(line, c.person.email);
        append_nullable(line, c.person.phone);
        append_field(line, msg);
        append_field(line, reply);
        append_field(line, iso_utc(at));
        if (linked) {
          append_field(line, company.id);
          append_field(line, c.id);
        }
        write(line);
        if (++company.chat_rows % kProgressEvery == 0) progress.report("chats", company.chat_rows, total_chats);
      });
    }
  });
  progress.report("chats", company.chat_rows, total_chats);
}

void seed_company_new_shape(pqxx::connection& conn, const SeedOptions& o, std::uint64_t company_index,
                            SeededCompany& company, const std::function<void(const SeedProgress&)>& cb) {
  Generator gen(o, company_index);
  Progress progress(cb, company.slug);
  pqxx::work tx(conn);
  tx.exec0("SET LOCAL synchronous_commit = off");
  tx.exec0("SET LOCAL work_mem = '256MB'");  // the statement triggers group every row of the statement
  tx.exec_params(kEnterTenant, company.id);
  tx.exec0(kCreateSeedCustomers);
  tx.exec0(kCreateSeedChats);

  const std::string created_by = "seed";
  copy_rows(tx, "seed_customers",
            {"id", "company_id", "name", "email", "phone", "address", "lifecycle_stage", "tags", "source", "status",
             "created_at", "updated_at", "created_by", "updated_by", "version"},
            [&](auto&& write) {
              std::string line;
              for (std::uint64_t i = 0; i < o.customers; ++i) {
                const SeedCustomer c = gen.customer(i);
                const std::string at = iso_utc(c.created_at);
                line.clear();
                append_field(line, c.id);
                append_field(line, company.id);
                append_nullable(line, c.person.name);
                append_nullable(line, c.person.email);
                append_nullable(line, c.person.phone);
                append_nullable(line, c.person.address);
                append_field(line, c.stage);
                append_field(line, c.tags);
                append_field(line, "import");
                append_field(line, "active");
                append_field(line, at);
                append_field(line, at);
                append_field(line, created_by);
                append_field(line, created_by);
                append_field(line, "1");
                write(line);
                if (c.duplicate) ++company.duplicates;
                if ((i + 1) % kProgressEvery == 0) progress.report("customers", i + 1, o.customers);
              }
            });
  progress.report("derived", 0, 2);
  tx.exec0(kInsertSeedCustomers);
  company.customers = o.customers;
  progress.report("customers", o.customers, o.customers);
  // Statistics that include this transaction's rows, for the chat statement's triggers.
  tx.exec0("ANALYZE customers, customer_matching_keys, customer_metrics, customer_search");
  progress.report("derived", 1, 2);

  progress.restart();
  copy_chat_rows(tx, "seed_chats", true, gen, o, company, progress);
  tx.exec0(kInsertSeedChats);
  progress.report("derived", 2, 2);
  tx.commit();
}

void seed_company_legacy(pqxx::connection& conn, const SeedOptions& o, std::uint64_t company_index,
                         SeededCompany& company, const std::function<void(const SeedProgress&)>& cb) {
  Generator gen(o, company_index);
  Progress progress(cb, company.slug);
  pqxx::work tx(conn);
  tx.exec0("SET LOCAL synchronous_commit = off");
  copy_rows(tx, "customers", {"id", "company_id", "name", "email", "phone", "created_at"}, [&](auto&& write) {
    std::string line;
    for (std::uint64_t i = 0; i < o.customers; ++i) {
      const SeedCustomer c = gen.customer(i);
      line.clear();
      append_field(line, c.id);
      append_field(line, company.id);
      append_nullable(line, c.person.name);
      append_nullable(line, c.person.email);
      append_nullable(line, c.person.phone);
      append_field(line, iso_utc(c.created_at));
      write(line);
      if (c.duplicate) ++company.duplicates;
      if ((i + 1) % kProgressEvery == 0) progress.report("customers", i + 1, o.customers);
    }
  });
  company.customers = o.customers;
  copy_chat_rows(tx, "\"VC Usage\"", false, gen, o, company, progress);
  tx.commit();
}

}  // namespace

SeedReport seed_database(const std::string& admin_url, const SeedOptions& o,
                         const std::function<void(const SeedProgress&)>& cb) {
  if (o.companies < 1) throw std::invalid_argument("--companies must be at least 1");
  if (o.company != "new" && o.companies != 1) {
    throw std::invalid_argument("--companies applies only with --company new");
  }
  if (o.duplicate_rate < 0 || o.duplicate_rate > 0.5) {
    throw std::invalid_argument("--duplicate-rate must be between 0 and 0.5");
  }
  if (o.customers > 100000000ULL || o.chats_per_customer > 10000) {
    throw std::invalid_argument("--customers at most 100000000, --chats-per-customer at most 10000");
  }
  const auto started = std::chrono::steady_clock::now();
  pqxx::connection conn(admin_url);
  {
    pqxx::read_transaction tx(conn);
    const bool new_shape = tx.exec1(kCheckLegacyShape)[0].as<bool>();
    if (o.legacy && new_shape) {
      throw std::runtime_error(
          "--legacy writes the legacy shape (migration 0001 only), but this database is migrated further; "
          "use a database at version 1 (tradesphere migrate up --to 1)");
    }
    if (!o.legacy && !new_shape) {
      throw std::runtime_error("this database has the legacy shape: run `tradesphere migrate up` or pass --legacy");
    }
  }

  SeedReport report;
  for (int n = 0; n < o.companies; ++n) {
    SeededCompany company;
    {
      pqxx::work work(conn);
      std::atomic<std::uint64_t> statements{0};
      db::Tx tx(work, statements);
      db::CompanyRepository companies;
      if (o.company != "new") {
        auto existing = companies.find_company_by_slug(tx, o.company);
        if (!existing) throw std::runtime_error("no company with slug '" + o.company + "'");
        company.id = existing->id;
        company.slug = o.company;
      } else {
        // seed-<seed>-<n>, or the next free suffix when seeded into this database before
        const std::string stem = "seed-" + std::to_string(o.seed) + "-" + std::to_string(n + 1);
        company.slug = stem;
        for (int suffix = 2; companies.find_company_by_slug(tx, company.slug); ++suffix) {
          company.slug = stem + "-" + std::to_string(suffix);
        }
        const std::string name = "Seed company " + company.slug;
        company.id = o.legacy ? tx.exec1(kInsertLegacyCompany, company.slug, name)[0].as<std::string>()
                              : companies.insert_company(tx, company.slug, name, "1").id;
      }
      company.tech_id = "agent-" + company.slug;
      companies.upsert_app_user(tx, company.tech_id, company.id, domain::Role::kAdmin);
      work.commit();
    }
    if (o.legacy) {
      seed_company_legacy(conn, o, static_cast<std::uint64_t>(n), company, cb);
    } else {
      seed_company_new_shape(conn, o, static_cast<std::uint64_t>(n), company, cb);
    }
    report.customers += company.customers;
    report.duplicates += company.duplicates;
    report.chat_rows += company.chat_rows;
    report.companies.push_back(company);
  }
  if (cb) cb(SeedProgress{"analyze", "", 0, 0, 0});
  pqxx::nontransaction(conn).exec0("ANALYZE");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.rows_per_second =
      report.seconds > 0 ? static_cast<double>(report.customers + report.chat_rows) / report.seconds : 0;
  return report;
}

}  // namespace tradesphere::devdata
