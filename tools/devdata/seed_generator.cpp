#include "devdata/seed_generator.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

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
constexpr const char* kCompanyBySlug = "SELECT id::text, slug FROM companies WHERE slug = $1";
constexpr const char* kSlugTaken = "SELECT EXISTS (SELECT 1 FROM companies WHERE slug = $1)";
constexpr const char* kInsertCompany =
    "INSERT INTO companies (id, slug, name) VALUES (gen_random_uuid(), $1, $2) RETURNING id::text";
constexpr const char* kInsertUser = R"SQL(
INSERT INTO app_users (tech_id, company_id, role) VALUES ($1, $2::uuid, 'admin')
ON CONFLICT (tech_id) DO NOTHING
)SQL";
constexpr const char* kDisableCustomerTriggers = "ALTER TABLE customers DISABLE TRIGGER USER";
constexpr const char* kEnableCustomerTriggers = "ALTER TABLE customers ENABLE TRIGGER USER";
// Every seeded chat row carries company_id and customer_id, so of the "VC Usage" triggers
// only the metrics one would do work (tenant-from-tech-id, sync and quarantine are no-ops
// for such rows); all are disabled to save their per-row plpgsql calls.
constexpr const char* kDisableMetricsTrigger = "ALTER TABLE \"VC Usage\" DISABLE TRIGGER USER";
constexpr const char* kEnableMetricsTrigger = "ALTER TABLE \"VC Usage\" ENABLE TRIGGER USER";
// COPY refuses tables whose row-level security applies to the caller; RLS is FORCED for
// the owner, so the seed lifts FORCE for its own transaction (same ACCESS EXCLUSIVE lock).
constexpr const char* kUnforceRls =
    "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY; ALTER TABLE \"VC Usage\" NO FORCE ROW LEVEL SECURITY";
constexpr const char* kForceRls =
    "ALTER TABLE customers FORCE ROW LEVEL SECURITY; ALTER TABLE \"VC Usage\" FORCE ROW LEVEL SECURITY";
constexpr const char* kCreateSeedIds = "CREATE TEMP TABLE seed_ids (id uuid PRIMARY KEY) ON COMMIT DROP";

// What trg_customers_matching_keys_sync would have written (sync_customer_matching_keys).
constexpr const char* kSeedMatchingKeys = R"SQL(
-- Same shape as customers_after_insert (0011): normalized once per row (OFFSET 0),
-- plain insert (the customers are new).
INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
SELECT n.company_id, k.key_type, k.key_value, n.id
  FROM (SELECT c.company_id, c.id, normalize_email(c.email) AS email,
               normalize_phone(c.phone, co.default_country_code) AS phone, normalize_name(c.name) AS name
          FROM seed_ids s
          JOIN customers c ON c.company_id = $1::uuid AND c.id = s.id
          JOIN companies co ON co.id = c.company_id
        OFFSET 0) n
 CROSS JOIN LATERAL (VALUES ('email', n.email), ('phone', n.phone), ('name', n.name)) AS k (key_type, key_value)
 WHERE k.key_value IS NOT NULL
)SQL";
constexpr const char* kSeedCreatedEvents = R"SQL(
INSERT INTO customer_events (company_id, customer_id, event_type, payload, created_at)
SELECT c.company_id, c.id, 'created',
       jsonb_build_object('source', c.source, 'name', c.name, 'email', c.email, 'phone', c.phone,
                          'lifecycle_stage', c.lifecycle_stage, 'status', c.status),
       c.created_at
  FROM seed_ids s
  JOIN customers c ON c.company_id = $1::uuid AND c.id = s.id
 ORDER BY c.created_at, c.id
)SQL";
// What trg_customers_audit_log would have written for the INSERT.
constexpr const char* kSeedAuditRows = R"SQL(
INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id, before, after)
SELECT c.company_id, 'customers', 'INSERT', c.id::text, c.id, NULL, to_jsonb(c)
  FROM seed_ids s
  JOIN customers c ON c.company_id = $1::uuid AND c.id = s.id
 ORDER BY c.created_at, c.id
)SQL";
// What customers_after_insert (0011) writes into the search table.
constexpr const char* kSeedSearchRows = R"SQL(
INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
SELECT c.company_id, c.id, c.name, lower(c.email), phone_digits(c.phone)
  FROM seed_ids s
  JOIN customers c ON c.company_id = $1::uuid AND c.id = s.id
 WHERE c.status = 'active'
)SQL";
// What metrics_add writes for the first row of each (customer, conversation).
constexpr const char* kSeedConversationEvents = R"SQL(
INSERT INTO customer_events (company_id, customer_id, event_type, payload, created_at)
SELECT f.company_id, f.customer_id, 'conversation_linked',
       jsonb_build_object('session_key', f.k, 'vc_usage_id', f.id), f.created_at
  FROM (SELECT DISTINCT ON (v.customer_id, conversation_key(v.session_id, v.id))
               v.company_id, v.customer_id, conversation_key(v.session_id, v.id) AS k, v.id, v.created_at
          FROM "VC Usage" v
          JOIN seed_ids s ON s.id = v.customer_id
         WHERE v.company_id = $1::uuid
         ORDER BY v.customer_id, conversation_key(v.session_id, v.id), v.id) f
 ORDER BY f.id
)SQL";
constexpr const char* kRebuildMetrics = "SELECT rebuild_customer_metrics($1::uuid)";

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

void seed_company_new_shape(pqxx::connection& conn, const SeedOptions& o, std::uint64_t company_index,
                            SeededCompany& company, const std::function<void(const SeedProgress&)>& cb) {
  Generator gen(o, company_index);
  Progress progress(cb, company.slug);
  pqxx::work tx(conn);
  tx.exec0("SET LOCAL synchronous_commit = off");
  tx.exec0("SET LOCAL work_mem = '256MB'");  // the set-based steps sort every chat row of the company
  tx.exec0(kDisableCustomerTriggers);
  tx.exec0(kDisableMetricsTrigger);
  tx.exec0(kUnforceRls);
  tx.exec0(kCreateSeedIds);

  copy_rows(tx, "seed_ids", {"id"}, [&](auto&& write) {
    for (std::uint64_t i = 0; i < o.customers; ++i) write(gen.id_of(i));
  });
  const std::string created_by = "seed";
  copy_rows(tx, "customers",
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
  company.customers = o.customers;
  progress.report("customers", o.customers, o.customers);

  progress.report("derived", 0, 3);
  tx.exec0("ANALYZE customers, seed_ids");
  tx.exec_params(kSeedMatchingKeys, company.id);
  tx.exec_params(kSeedCreatedEvents, company.id);
  tx.exec_params(kSeedAuditRows, company.id);
  tx.exec_params(kSeedSearchRows, company.id);
  tx.exec0("ANALYZE customer_search");
  progress.report("derived", 3, 3);

  const std::uint64_t total_chats = o.customers * o.chats_per_customer;
  progress.restart();
  copy_rows(tx, "\"VC Usage\"",
            {"session_id", "tech_id", "customer_name", "customer_email", "customer_phone", "user_message",
             "ai_response", "created_at", "company_id", "customer_id"},
            [&](auto&& write) {
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
                  append_field(line, company.id);
                  append_field(line, c.id);
                  write(line);
                  if (++company.chat_rows % kProgressEvery == 0) progress.report("chats", company.chat_rows, total_chats);
                });
              }
            });
  progress.report("chats", company.chat_rows, total_chats);

  progress.report("derived", 3, 5);
  // Statistics that include this transaction's rows: without them the planner takes the
  // freshly loaded tables for empty and rebuild_customer_metrics() runs for minutes
  // (nested loops over 1M chat rows at 100k customers) instead of seconds.
  tx.exec0("ANALYZE customers, \"VC Usage\", customer_matching_keys, customer_events");
  tx.exec_params(kSeedConversationEvents, company.id);
  tx.exec_params(kRebuildMetrics, company.id);
  tx.exec0(kEnableMetricsTrigger);
  tx.exec0(kEnableCustomerTriggers);
  tx.exec0(kForceRls);
  tx.commit();
  progress.report("derived", 5, 5);
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
  const std::uint64_t total_chats = o.customers * o.chats_per_customer;
  copy_rows(tx, "\"VC Usage\"",
            {"session_id", "tech_id", "customer_name", "customer_email", "customer_phone", "user_message",
             "ai_response", "created_at"},
            [&](auto&& write) {
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
                  write(line);
                  if (++company.chat_rows % kProgressEvery == 0) progress.report("chats", company.chat_rows, total_chats);
                });
              }
            });
  tx.commit();
  progress.report("chats", company.chat_rows, total_chats);
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
      pqxx::work tx(conn);
      if (o.company != "new") {
        auto r = tx.exec_params(kCompanyBySlug, o.company);
        if (r.empty()) throw std::runtime_error("no company with slug '" + o.company + "'");
        company.id = r[0][0].as<std::string>();
        company.slug = o.company;
      } else {
        // seed-<seed>-<n>, or the next free suffix when seeded into this database before
        const std::string stem = "seed-" + std::to_string(o.seed) + "-" + std::to_string(n + 1);
        company.slug = stem;
        for (int suffix = 2; tx.exec_params1(kSlugTaken, company.slug)[0].as<bool>(); ++suffix) {
          company.slug = stem + "-" + std::to_string(suffix);
        }
        company.id = tx.exec_params1(kInsertCompany, company.slug, "Seed company " + company.slug)[0].as<std::string>();
      }
      company.tech_id = "agent-" + company.slug;
      tx.exec_params(kInsertUser, company.tech_id, company.id);
      tx.commit();
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
