// Set-based chat ingest (migration 0034): a multi-row INSERT into "VC Usage" links,
// creates, records failures and counts metrics exactly as the same rows inserted one
// by one in id order. docs/database.md, "Chat sync".
//
// Property test: two "worlds" in one database, each with two companies holding the
// same pre-existing customers and chat rows. The same generated messy rows (shared
// sessions, emails in different case and padding, shared phones, rows without
// contact, explicit links, NULL timestamps, a quarantined row) go into world 1 as
// ONE multi-row INSERT and into world 2 as single-row INSERTs in the same order.
// Every table the sync and the metrics write is then read per company, with
// customer ids replaced by a label (a pre-existing customer's name, or the position
// of the first chat row linked to it) and chat row ids by their position, and the
// two worlds must be identical.
#include <algorithm>
#include <functional>
#include <latch>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "db/chat_repository.hpp"
#include "db/database.hpp"
#include "support/chat_rows.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::testing::linked_customer;

using Opt = std::optional<std::string>;

struct ChatRow {
  int company = 0;  // 0, 1 = the world's companies; 2 = an unknown tech id (quarantined)
  Opt session, name, email, phone, created_at;
  Opt explicit_customer;  // name of a pre-existing customer to link explicitly
  std::string message;
};

struct World {
  std::string company[2];
  std::string tech[2];
  std::string ghost_tech;  // matches no user
};

const std::vector<std::string> kPreNames = {"Pre Dana", "Pre Eve", "Pre Old Finn", "Pre Finn", "Pre Gone"};

// The same pools for every world: collisions are the point.
std::vector<ChatRow> generate(unsigned seed, int n) {
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<Opt>& pool) { return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]; };
  const std::vector<Opt> sessions = {"s1", "s2", "s3", "s4", "s5", "s6", "s-pre", "", std::nullopt, std::nullopt};
  const std::vector<Opt> names = {"Ann", "  Bob   Smith ", "Carl", "", std::nullopt, "Dora", "Ann"};
  const std::vector<Opt> emails = {"ann@x.io",  " ANN@X.IO ",     "Ann@x.io ", "bob@y.org", "BOB@Y.ORG  ", "carl@z.net",
                                   "invalid",   "",               std::nullopt, std::nullopt, "dana@w.com", "FINN.OLD@w.com",
                                   "gone@w.com", "eve@w.com",     std::nullopt};
  const std::vector<Opt> phones = {"(555) 111-2222", "+1 555 111 2222", "555-333-4444", "1 555 333 4444", "12345",
                                   "",               std::nullopt,      std::nullopt,   std::nullopt,     "+1 555 999 0000"};
  const std::vector<Opt> times = {"2026-01-01 10:00:00+00", "2026-01-01 10:00:00+00", "2026-01-02 09:00:00+00",
                                  "2025-12-31 23:00:00+00", std::nullopt};
  std::vector<ChatRow> rows;
  for (int i = 0; i < n; ++i) {
    ChatRow r;
    const int c = std::uniform_int_distribution<int>(0, 99)(rng);
    r.company = c < 55 ? 0 : (c < 97 ? 1 : 2);
    r.session = pick(sessions);
    r.name = pick(names);
    r.email = pick(emails);
    r.phone = pick(phones);
    r.created_at = pick(times);
    if (std::uniform_int_distribution<int>(0, 19)(rng) == 0) r.explicit_customer = "Pre Eve";
    r.message = "message " + std::to_string(i);
    rows.push_back(r);
  }
  return rows;
}

// Mostly one-off sessions and the pre-existing customers' contacts (in other case and
// padding), with some repeated new contacts, sessions linked before (s-pre: Dana) whose
// rows carry another customer's email, the merged and the deleted customer's emails and
// NULL timestamps: batches where many records are known contacts, some of them in the
// same component as records that are not (migration 0043's batch lookup).
std::vector<ChatRow> generate_wide(unsigned seed, int n) {
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<Opt>& pool) { return pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]; };
  const std::vector<Opt> emails = {"dana@w.com", " DANA@W.com ", "Eve@w.com", "eve@w.com  ", "finn@w.com", "FINN.OLD@w.com",
                                   "gone@w.com", "new1@n.io", " NEW1@n.io", "new2@n.io", std::nullopt, std::nullopt, ""};
  const std::vector<Opt> phones = {"+1 555 999 0000", "(555) 999-0000", "555-777-1111", "+1 555 777 1111", std::nullopt,
                                   std::nullopt, std::nullopt, std::nullopt};
  const std::vector<Opt> times = {"2026-01-01 10:00:00+00", "2026-01-02 09:00:00+00", "2025-12-31 23:00:00+00", std::nullopt};
  std::vector<ChatRow> rows;
  for (int i = 0; i < n; ++i) {
    ChatRow r;
    r.company = std::uniform_int_distribution<int>(0, 99)(rng) < 60 ? 0 : 1;
    const int s = std::uniform_int_distribution<int>(0, 19)(rng);
    r.session = s == 0 ? Opt("s-pre") : (s == 1 ? Opt("w-shared") : Opt("w-" + std::to_string(i)));
    r.name = "Wide " + std::to_string(i % 7);
    r.email = pick(emails);
    r.phone = pick(phones);
    r.created_at = pick(times);
    r.message = "wide " + std::to_string(i);
    rows.push_back(r);
  }
  return rows;
}

// Mostly new contacts (migration 0048's set-based creation): a new contact writes several
// messages, in its own session or in one per message, with its email and phone in other case,
// padding and format, or without them (the session alone, or the name alone); some rows mix
// two new contacts (the email of one, the phone of another: chains the row path resolves in
// id order), some carry a pre-existing customer's email or session, some no contact at all.
std::vector<ChatRow> generate_new(unsigned seed, int n) {
  std::mt19937 rng(seed);
  auto roll = [&](int k) { return std::uniform_int_distribution<int>(0, k - 1)(rng); };
  const std::vector<Opt> pre_emails = {"dana@w.com", " DANA@W.com ", "eve@w.com", "FINN.OLD@w.com", "gone@w.com"};
  std::vector<ChatRow> rows;
  for (int i = 0; i < n; ++i) {
    ChatRow r;
    r.company = roll(100) < 60 ? 0 : 1;
    const int k = roll(n / 3 + 1);  // the new contact
    const std::string ks = std::to_string(k);
    const int shape = roll(20);
    r.session = roll(3) == 0 ? Opt("n-" + ks + "-" + std::to_string(i)) : Opt("n-" + ks);
    r.name = roll(4) == 0 ? Opt(std::nullopt) : Opt(roll(2) == 0 ? "New " + ks : "  new   " + ks + " ");
    switch (roll(4)) {
      case 0: r.email = "new" + ks + "@n.io"; break;
      case 1: r.email = " NEW" + ks + "@N.io "; break;
      case 2: r.email = std::nullopt; break;
      default: r.email = roll(2) == 0 ? Opt("") : Opt("new" + ks + "@n.io"); break;
    }
    switch (roll(4)) {
      case 0: r.phone = "+1 415 555 " + std::to_string(1000 + k); break;
      case 1: r.phone = "(415) 555-" + std::to_string(1000 + k); break;
      default: r.phone = std::nullopt; break;
    }
    if (shape == 0) r.email = "new" + std::to_string(roll(n / 3 + 1)) + "@n.io";        // another new contact's email
    if (shape == 1) r.phone = "415-555-" + std::to_string(1000 + roll(n / 3 + 1));       // another one's phone
    if (shape == 2) r.email = pre_emails[roll(static_cast<int>(pre_emails.size()))];     // a pre-existing customer's
    if (shape == 3) r.session = "s-pre";                                                  // Dana's session
    if (shape == 4) { r.email = std::nullopt; r.phone = std::nullopt; }                   // the session (or name) alone
    if (shape == 5) { r.name = std::nullopt; r.email = std::nullopt; r.phone = std::nullopt; }  // no contact
    if (shape == 6) r.email = "invalid";
    r.created_at = roll(5) == 0 ? Opt(std::nullopt) : Opt("2026-01-0" + std::to_string(1 + roll(3)) + " 10:00:00+00");
    r.message = "new " + std::to_string(i);
    rows.push_back(r);
  }
  return rows;
}

class ChatIngestBatchTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    // as in an adopted legacy database: chat rows without a timestamp (metrics order them first)
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec("ALTER TABLE \"VC Usage\" ALTER COLUMN created_at DROP NOT NULL");
    tx.commit();
  }

  World make_world(const std::string& tag) {
    World w;
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    for (int i = 0; i < 2; ++i) {
      const std::string slug = tag + "-" + std::to_string(i);
      w.company[i] = tx.exec_params1("INSERT INTO companies (slug, name, default_country_code) VALUES ($1, $1, '1') RETURNING id::text",
                                     slug)[0].as<std::string>();
      w.tech[i] = "tech-" + slug;
      tx.exec_params("INSERT INTO app_users (tech_id, company_id, role) VALUES ($1, $2::uuid, 'agent')", w.tech[i],
                     w.company[i]);
    }
    w.ghost_tech = "ghost-" + tag;
    tx.commit();
    // identical pre-existing state: customers (one merged into another, one soft-deleted)
    // and a linked conversation, created the same way in every company
    for (int i = 0; i < 2; ++i) {
      pqxx::connection a(app_url());
      pqxx::work t(a);
      t.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'prop-test', true)",
                    w.company[i]);
      auto add = [&](const std::string& name, const std::string& email, const std::string& phone) {
        return t.exec_params1("INSERT INTO customers (name, email, phone, company_id) VALUES ($1, nullif($2, ''), "
                              "nullif($3, ''), $4::uuid) RETURNING id::text",
                              name, email, phone, w.company[i])[0].as<std::string>();
      };
      const std::string dana = add("Pre Dana", "dana@w.com", "+1 555 999 0000");
      add("Pre Eve", "eve@w.com", "");
      const std::string old_finn = add("Pre Old Finn", "finn.old@w.com", "");
      const std::string finn = add("Pre Finn", "finn@w.com", "");
      const std::string gone = add("Pre Gone", "gone@w.com", "");
      t.exec("UPDATE customers SET status = 'merged', merged_into_customer_id = '" + finn + "' WHERE id = '" + old_finn + "'");
      t.exec("UPDATE customers SET status = 'deleted' WHERE id = '" + gone + "'");
      t.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, user_message, created_at) "
                    "VALUES ($1, 's-pre', 'Dana', 'earlier', '2025-06-01 00:00:00+00')",
                    w.tech[i]);
      t.commit();
      (void)dana;
    }
    return w;
  }

  std::string tech_of(const World& w, const ChatRow& r) const { return r.company == 2 ? w.ghost_tech : w.tech[r.company]; }

  static const char* p(const Opt& o) { return o ? o->c_str() : nullptr; }

  static constexpr const char* kInsertOne =
      "INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, customer_phone, user_message, "
      "created_at, customer_id) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, "
      "        (SELECT c.id FROM customers c JOIN app_users u ON u.company_id = c.company_id "
      "          WHERE u.tech_id = $1 AND c.name = $8)) "
      "RETURNING id";

  // world 1: one statement for every row, as the owner (tenants from the tech ids);
  // returns the rows' customer ids by row position
  std::vector<Opt> insert_batch(const World& w, const std::vector<ChatRow>& rows, bool fail_metrics_batch = false) {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.user_id', 'prop-test', true)");
    if (fail_metrics_batch) tx.exec("SELECT set_config('app.test_fail_metrics_batch', 'on', true)");
    // a VALUES list of quoted literals keeps NULLs exact
    auto lit = [&](const Opt& o) { return o ? tx.quote(*o) : std::string("NULL"); };
    std::string sql =
        "INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, customer_phone, user_message, "
        "created_at, customer_id) SELECT v.t, v.s, v.n, v.e, v.p, v.m, v.a::timestamptz, "
        "(SELECT c.id FROM customers c JOIN app_users u ON u.company_id = c.company_id WHERE u.tech_id = v.t AND c.name = v.x) "
        "FROM (VALUES ";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      if (i) sql += ", ";
      sql += "(" + std::to_string(i) + ", " + lit(tech_of(w, r)) + "::text, " + lit(r.session) + "::text, " + lit(r.name) +
             "::text, " + lit(r.email) + "::text, " + lit(r.phone) + "::text, " + lit(r.message) + "::text, " +
             lit(r.created_at) + "::text, " + lit(r.explicit_customer) + "::text)";
    }
    sql += ") AS v (ord, t, s, n, e, p, m, a, x) ORDER BY v.ord RETURNING id";
    auto res = tx.exec(sql);
    std::vector<std::pair<long long, Opt>> out;
    for (const auto& row : res) out.emplace_back(row[0].as<long long>(), linked_customer(tx, row[0].as<long long>()));
    tx.commit();
    std::sort(out.begin(), out.end());
    std::vector<Opt> customers;
    for (auto& [id, cust] : out) customers.push_back(cust);
    return customers;
  }

  // world 2: one statement per row in the same order, one transaction, as the
  // application in the row's tenant (the quarantined row through the legacy policy),
  // each matched by the row path (chat_match_customer: app.test_row_by_row, 0051), the
  // rule every set-based path is compared with
  std::vector<Opt> insert_row_by_row(const World& w, const std::vector<ChatRow>& rows) {
    std::vector<Opt> customers;
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.user_id', 'prop-test', true), set_config('app.test_row_by_row', 'on', true)");
    for (const auto& r : rows) {
      tx.exec_params("SELECT set_config('app.company_id', $1, true)", r.company == 2 ? std::string() : w.company[r.company]);
      if (r.company == 2) {
        tx.exec_params(
            "INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, customer_phone, user_message, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)",
            tech_of(w, r), p(r.session), p(r.name), p(r.email), p(r.phone), r.message, p(r.created_at));
        customers.push_back(std::nullopt);
        continue;
      }
      auto res = tx.exec_params(kInsertOne, tech_of(w, r), p(r.session), p(r.name), p(r.email), p(r.phone), r.message,
                                p(r.created_at), p(r.explicit_customer));
      customers.push_back(linked_customer(tx, res[0][0].as<long long>()));
    }
    tx.commit();
    return customers;
  }

  // world 5, `POST /v1/chat`'s statement (ChatRepository::insert_chats): per company, its rows
  // in order, in batches of `batch` records, each batch in its own transaction as the
  // application; returns how many records the batch lookup (0043) answered itself.
  // The rows must carry a session ('' for none) and a timestamp, as the API's do.
  // created (when given): how many records chat_match_batch() answered beyond the known
  // contacts, i.e. linked to a customer it created (asked in a savepoint rolled back first)
  int insert_api_batches(const World& w, const std::vector<ChatRow>& rows, std::size_t batch, int* created = nullptr) {
    tradesphere::db::PoolOptions o;
    o.url = app_url();
    o.size = 1;
    o.statement_timeout = std::chrono::milliseconds(30000);
    tradesphere::db::Database db(o);
    tradesphere::db::ChatRepository chats;
    int known = 0;
    for (int company = 0; company < 2; ++company) {
      std::vector<tradesphere::domain::ChatRecord> records;
      auto flush = [&] {
        if (records.empty()) return;
        const tradesphere::domain::RequestContext ctx{w.company[company], "prop-test",
                                                      tradesphere::domain::Role::kAgent, "api-world"};
        db.transact(ctx, "api_world", [&](tradesphere::db::Tx& tx) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : records) {
            j.push_back({{"session_id", r.session_id}, {"customer_email", r.customer_email ? nlohmann::json(*r.customer_email) : nlohmann::json()},
                         {"customer_phone", r.customer_phone ? nlohmann::json(*r.customer_phone) : nlohmann::json()}});
          }
          // what the INSERT below will be told (the same answer: the locks are this transaction's)
          const int known_here = tx.exec1("SELECT count(u) FROM unnest(chat_match_known_batch($1::uuid, $2::jsonb)) u",
                                          w.company[company], j.dump())[0].as<int>();
          known += known_here;
          if (created != nullptr) {
            for (std::size_t i = 0; i < records.size(); ++i) {
              j[i]["customer_name"] = records[i].customer_name ? nlohmann::json(*records[i].customer_name) : nlohmann::json();
            }
            tx.exec("SAVEPOINT count_created");
            *created += tx.exec1("SELECT count(u) FROM unnest(chat_match_batch($1::uuid, $2::jsonb)) u", w.company[company],
                                 j.dump())[0].as<int>() - known_here;
            tx.exec("ROLLBACK TO SAVEPOINT count_created");
          }
          const auto stored = chats.insert_chats(tx, w.company[company], records);
          EXPECT_EQ(stored.size(), records.size());
          return 0;
        });
        records.clear();
      };
      for (const auto& r : rows) {
        if (r.company != company) continue;
        EXPECT_TRUE(r.session && r.created_at && !r.explicit_customer);
        tradesphere::domain::ChatRecord rec;
        rec.session_id = r.session.value_or("");
        rec.tech_id = w.tech[company];
        rec.customer_name = r.name;
        rec.customer_email = r.email;
        rec.customer_phone = r.phone;
        rec.user_message = r.message;
        rec.ai_response = "ok";
        rec.created_at = r.created_at;
        records.push_back(rec);
        if (records.size() == batch) flush();
      }
      flush();
    }
    return known;
  }

  // The API's rows: a session ('' for none), a timestamp, no explicit link, no unknown tech id.
  static std::vector<ChatRow> api_shaped(std::vector<ChatRow> rows) {
    std::vector<ChatRow> out;
    for (auto& r : rows) {
      if (r.company == 2) continue;
      if (!r.session) r.session = "";
      if (!r.created_at) r.created_at = "2026-01-03 08:00:00+00";
      r.explicit_customer.reset();
      out.push_back(r);
    }
    return out;
  }

  // world 3, the rule as backfill applies it (link_chat_row, whose new customers get
  // their side effects from the customer triggers at once, as before 0034): the rows
  // stored with the sync paused, then linked one by one in id order
  void insert_paused_then_link(const World& w, const std::vector<ChatRow>& rows) {
    pause(w.company[0], true);
    pause(w.company[1], true);
    insert_batch(w, rows);
    pause(w.company[0], false);
    pause(w.company[1], false);
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.user_id', 'prop-test', true)");
    for (const auto& r : tx.exec("SELECT id FROM \"VC Usage\" WHERE company_id IN ('" + w.company[0] + "', '" + w.company[1] +
                                 "') AND customer_id IS NULL ORDER BY id")) {
      tx.exec("SELECT link_chat_row(" + r[0].as<std::string>() + ")");
    }
    tx.commit();
  }

  // world 4, the set-based backfill (migration 0035): the same rows stored with the
  // sync paused, then linked with backfill_link_chat_rows() company by company in
  // batches of `batch` rows, each batch in its own transaction as `tradesphere
  // backfill --jobs N` does. Returns the number of batches linked set-based and row by row.
  std::pair<int, int> insert_paused_then_backfill(const World& w, const std::vector<ChatRow>& rows, int batch,
                                                  bool fail_metrics_batch = false) {
    pause(w.company[0], true);
    pause(w.company[1], true);
    insert_batch(w, rows);
    pause(w.company[0], false);
    pause(w.company[1], false);
    int set_based = 0, row_by_row = 0;
    pqxx::connection c(owner_url());
    for (const auto& company : w.company) {
      long long after = 0;
      for (;;) {
        pqxx::work tx(c);
        tx.exec("SELECT set_config('app.user_id', 'prop-test', true)");
        if (fail_metrics_batch) tx.exec("SELECT set_config('app.test_fail_metrics_batch', 'on', true)");
        const auto r = tx.exec_params1(
            "SELECT examined, last_id, row_by_row FROM backfill_link_chat_rows($1::uuid, $2, $3)", company, after, batch);
        tx.commit();
        if (r[0].as<int>() == 0) break;
        after = r[1].as<long long>();
        ++(r[2].as<bool>() ? row_by_row : set_based);
      }
    }
    return {set_based, row_by_row};
  }

  // Everything the sync and the metrics wrote for one company, canonical and sorted.
  std::map<std::string, std::vector<std::string>> snapshot(const std::string& company) {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    const std::string q = "'" + company + "'::uuid";
    std::map<std::string, std::string> label;  // customer id -> label
    std::map<long long, int> ord;              // chat row id -> position
    {
      int i = 0;
      for (const auto& r : tx.exec("SELECT id FROM \"VC Usage\" WHERE company_id = " + q + " ORDER BY id")) ord[r[0].as<long long>()] = i++;
      for (const auto& r : tx.exec("SELECT c.id::text, c.name, (SELECT min(v.id) FROM \"VC Usage\" v WHERE v.company_id = c.company_id "
                                   "AND v.customer_id = c.id) FROM customers c WHERE c.company_id = " + q)) {
        const auto name = r[1].as<Opt>();
        if (name && std::find(kPreNames.begin(), kPreNames.end(), *name) != kPreNames.end()) {
          label[r[0].as<std::string>()] = "pre:" + *name;
        } else if (!r[2].is_null()) {
          label[r[0].as<std::string>()] = "chat:" + std::to_string(ord.at(r[2].as<long long>()));
        } else {
          label[r[0].as<std::string>()] = "unlinked:" + name.value_or("?");
        }
      }
    }
    auto L = [&](const pqxx::field& f) { return f.is_null() ? std::string("NULL") : label.at(f.as<std::string>()); };
    auto T = [](const pqxx::field& f) { return f.is_null() ? std::string("NULL") : f.as<std::string>(); };
    auto O = [&](const pqxx::field& f) { return f.is_null() ? std::string("NULL") : "#" + std::to_string(ord.at(f.as<long long>())); };
    const std::regex row_key("^row:([0-9]+)$");
    auto K = [&](const std::string& key) {
      std::smatch m;
      if (std::regex_match(key, m, row_key)) return "row:#" + std::to_string(ord.at(std::stoll(m[1])));
      return key;
    };
    // JSON payloads: customer ids -> labels, chat row ids -> positions
    std::function<void(nlohmann::json&)> canon = [&](nlohmann::json& j) {
      if (j.is_object()) {
        for (auto& [k, v] : j.items()) {
          if (k == "vc_usage_id" && v.is_number_integer()) {
            v = "#" + std::to_string(ord.at(v.get<long long>()));
          } else if (k == "session_key" && v.is_string()) {
            v = K(v.get<std::string>());
          } else {
            canon(v);
          }
        }
      } else if (j.is_array()) {
        for (auto& v : j) canon(v);
      } else if (j.is_string() && label.count(j.get<std::string>())) {
        j = label.at(j.get<std::string>());
      }
    };
    auto J = [&](const pqxx::field& f) {
      if (f.is_null()) return std::string("NULL");
      auto j = nlohmann::json::parse(f.as<std::string>());
      canon(j);
      return j.dump();
    };

    std::map<std::string, std::vector<std::string>> s;
    for (const auto& r : tx.exec("SELECT id, customer_id::text FROM \"VC Usage\" WHERE company_id = " + q)) {
      s["chat"].push_back(O(r[0]) + " -> " + L(r[1]));
    }
    for (const auto& r : tx.exec("SELECT id::text, name, email, phone, source, lifecycle_stage, status, merged_into_customer_id::text, "
                                 "version::text FROM customers WHERE company_id = " + q)) {
      s["customers"].push_back(L(r[0]) + "|" + T(r[1]) + "|" + T(r[2]) + "|" + T(r[3]) + "|" + T(r[4]) + "|" + T(r[5]) + "|" +
                               T(r[6]) + "|" + L(r[7]) + "|" + T(r[8]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, key_type, key_value FROM customer_matching_keys WHERE company_id = " + q)) {
      s["keys"].push_back(L(r[0]) + "|" + T(r[1]) + "|" + T(r[2]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, customer_status, conversation_count::text, message_count::text, "
                                 "first_contact_at::text, last_contact_at::text, last_message_id, last_message_preview "
                                 "FROM customer_metrics WHERE company_id = " + q)) {
      s["metrics"].push_back(L(r[0]) + "|" + T(r[1]) + "|" + T(r[2]) + "|" + T(r[3]) + "|" + T(r[4]) + "|" + T(r[5]) + "|" +
                             O(r[6]) + "|" + T(r[7]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, session_key, message_count::text FROM customer_session_counts "
                                 "WHERE company_id = " + q)) {
      s["sessions"].push_back(L(r[0]) + "|" + K(r[1].as<std::string>()) + "|" + T(r[2]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, event_type, payload::text, actor FROM customer_events WHERE company_id = " + q)) {
      s["events"].push_back(L(r[0]) + "|" + T(r[1]) + "|" + J(r[2]) + "|" + T(r[3]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, table_name, operation, actor, after->>'name', after->>'email', "
                                 "after->>'phone', after->>'status', after->>'source', after->>'version', changed_fields::text "
                                 "FROM customer_audit_log WHERE company_id = " + q + " AND table_name = 'customers'")) {
      std::string line = L(r[0]);
      for (int i = 1; i < 11; ++i) { line += "|"; line += T(r[i]); }
      s["audit"].push_back(line);
    }
    for (const auto& r : tx.exec("SELECT customer_id::text, name, email_lc, phone_digits FROM customer_search WHERE company_id = " + q)) {
      s["search"].push_back(L(r[0]) + "|" + T(r[1]) + "|" + T(r[2]) + "|" + T(r[3]));
    }
    for (const auto& r : tx.exec("SELECT name, customers::text FROM search_name_terms WHERE company_id = " + q)) {
      s["name_terms"].push_back(T(r[0]) + "|" + T(r[1]));
    }
    for (const auto& r : tx.exec("SELECT stem, customers::text FROM search_email_stems WHERE company_id = " + q)) {
      s["email_stems"].push_back(T(r[0]) + "|" + T(r[1]));
    }
    for (const auto& r : tx.exec("SELECT customer_id::text FROM duplicate_queue WHERE company_id = " + q)) {
      s["duplicate_queue"].push_back(L(r[0]));
    }
    for (const auto& r : tx.exec("SELECT customer_a::text, customer_b::text, score::text, evidence::text FROM duplicate_candidates "
                                 "WHERE company_id = " + q)) {
      auto a = L(r[0]), b = L(r[1]);
      if (b < a) std::swap(a, b);
      s["candidates"].push_back(a + "|" + b + "|" + T(r[2]) + "|" + J(r[3]));
    }
    for (const auto& r : tx.exec("SELECT vc_usage_id, reason, sqlstate, message, attempts::text, resolved_at IS NULL "
                                 "FROM chat_sync_failures WHERE company_id = " + q)) {
      s["failures"].push_back(O(r[0]) + "|" + T(r[1]) + "|" + T(r[2]) + "|" + T(r[3]) + "|" + T(r[4]) + "|" + T(r[5]));
    }
    s["drift"].push_back(tx.exec1("SELECT count(*)::text FROM customer_metrics_drift(" + q + ")")[0].as<std::string>());
    // the stage counts (0049), summed, and their drift from a recount
    for (const auto& r : tx.exec("SELECT lifecycle_stage, sum(customers)::text FROM customer_stage_counts "
                                 "WHERE company_id = " + q + " GROUP BY 1 HAVING sum(customers) <> 0")) {
      s["stage_counts"].push_back(T(r[0]) + "|" + T(r[1]));
    }
    s["stage_drift"].push_back(
        tx.exec1("SELECT count(*)::text FROM customer_stage_count_drift(" + q + ")")[0].as<std::string>());
    for (auto& [k, v] : s) std::sort(v.begin(), v.end());
    return s;
  }

  void expect_same_world(const World& batch, const World& rows, bool compare_failures = true) {
    for (int i = 0; i < 2; ++i) {
      SCOPED_TRACE("company " + std::to_string(i));
      const auto a = snapshot(batch.company[i]);
      const auto b = snapshot(rows.company[i]);
      for (const auto& [table, lines] : b) {
        SCOPED_TRACE(table);
        if (table == "failures" && !compare_failures) continue;
        ASSERT_TRUE(a.count(table));
        EXPECT_EQ(a.at(table), lines);
      }
      EXPECT_EQ(a.at("drift"), std::vector<std::string>{"0"});
      EXPECT_EQ(a.at("stage_drift"), std::vector<std::string>{"0"});
    }
  }

  long long owner_count(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<long long>();
  }

  void pause(const std::string& company, bool paused) {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_chat_sync_paused($1::uuid, $2)", company, paused);
    tx.commit();
  }
};

TEST_F(ChatIngestBatchTest, AMultiRowInsertLinksCreatesAndCountsExactlyLikeRowByRowInIdOrder) {
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto rows = generate(seed, 120);
    const World batch = make_world("batch" + std::to_string(seed));
    const World single = make_world("single" + std::to_string(seed));
    const auto returned_batch = insert_batch(batch, rows);
    const auto returned_single = insert_row_by_row(single, rows);
    {
      SCOPED_TRACE("one multi-row INSERT vs single-row INSERTs");
      expect_same_world(batch, single);
    }
    {
      // against the backfill's path, whose new customers get their side effects from
      // the customer triggers (as every chat customer did before 0034); without
      // explicit links, which the backfill would see early (they are linked at insert)
      SCOPED_TRACE("one multi-row INSERT vs link_chat_row in id order");
      auto plain = rows;
      for (auto& r : plain) r.explicit_customer.reset();
      const World batch2 = make_world("batch2-" + std::to_string(seed));
      const World linked = make_world("linked" + std::to_string(seed));
      insert_batch(batch2, plain);
      insert_paused_then_link(linked, plain);
      expect_same_world(batch2, linked, /*compare_failures=*/false);
    }

    // RETURNING answers with the customer each row got (set before the row was stored)
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    const auto stored = tx.exec("SELECT customer_id::text FROM \"VC Usage\" WHERE tech_id IN ('" + batch.tech[0] + "', '" +
                                batch.tech[1] + "', '" + batch.ghost_tech + "') AND user_message <> 'earlier' "
                                "ORDER BY id");
    ASSERT_EQ(stored.size(), rows.size());
    ASSERT_EQ(returned_single.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(returned_batch[i], stored[i][0].as<Opt>()) << "row " << i;
      EXPECT_EQ(returned_batch[i].has_value(), returned_single[i].has_value()) << "row " << i;
    }
    // the rows of the unknown tech id are stored, quarantined, never linked
    const auto ghosts = std::count_if(rows.begin(), rows.end(), [](const ChatRow& r) { return r.company == 2; });
    for (const auto& w : {batch, single}) {
      EXPECT_EQ(owner_count("SELECT count(*) FROM vc_usage_quarantine q JOIN \"VC Usage\" v ON v.id = q.vc_usage_id "
                            "WHERE v.tech_id = '" + w.ghost_tech + "' AND v.company_id IS NULL AND v.customer_id IS NULL"),
                ghosts);
    }
    // the data really exercises the rules
    EXPECT_GT(owner_count("SELECT count(*) FROM customers WHERE company_id = '" + batch.company[0] + "' AND source = 'chat'"), 3);
    EXPECT_GT(owner_count("SELECT count(*) FROM customer_events WHERE company_id IN ('" + batch.company[0] + "', '" +
                          batch.company[1] + "') AND event_type = 'match_conflict'"), 0);
    EXPECT_GT(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE company_id = '" + batch.company[0] + "' AND customer_id IS NULL"), 0)
        << "rows without contact data stay orphaned";
  }
}

// Sync paused for one company, failures forced in the other: the same failure rows,
// every chat row kept; and the metrics fallback (the set-based statement failing)
// counts exactly like the set-based path.
TEST_F(ChatIngestBatchTest, PausedAndFailingSyncAndTheRowByRowMetricsFallbackGiveTheSameResult) {
  const auto rows = generate(7, 80);
  const World batch = make_world("pbatch");
  const World single = make_world("psingle");
  pause(batch.company[1], true);
  pause(single.company[1], true);
  insert_batch(batch, rows, /*fail_metrics_batch=*/true);
  insert_row_by_row(single, rows);
  expect_same_world(batch, single);
  EXPECT_GT(owner_count("SELECT count(*) FROM chat_sync_failures WHERE company_id = '" + batch.company[1] +
                        "' AND reason = 'paused' AND resolved_at IS NULL"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE reason = 'metrics'"), 0);

  // a failing sync: every row stored orphaned with an 'error' failure, in both paths
  const World fbatch = make_world("fbatch");
  const World fsingle = make_world("fsingle");
  {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.test_fail_sync', 'on', true)");
    tx.exec("SELECT set_config('app.user_id', 'prop-test', true)");
    tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_email, user_message) "
                   "SELECT $1, 'f' || g, 'f' || g || '@x.io', 'm' FROM generate_series(1, 5) g",
                   fbatch.tech[0]);
    tx.commit();
  }
  {
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.test_fail_sync', 'on', true)");
    tx.exec("SELECT set_config('app.user_id', 'prop-test', true)");
    tx.exec_params("SELECT set_config('app.company_id', $1, true)", fsingle.company[0]);
    for (int g = 1; g <= 5; ++g) {
      tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_email, user_message) VALUES ($1, $2, $3, 'm')",
                     fsingle.tech[0], "f" + std::to_string(g), "f" + std::to_string(g) + "@x.io");
    }
    tx.commit();
  }
  expect_same_world(fbatch, fsingle);
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE company_id = '" + fbatch.company[0] +
                        "' AND reason = 'error' AND resolved_at IS NULL"), 5);
}

// One row: RETURNING gives the new customer, whose side effects all exist when the
// statement ends (audit row, every key, created event, metrics, search row, queue).
TEST_F(ChatIngestBatchTest, ASingleRowInsertCreatesTheCustomerWithEverySideEffectByTheEndOfTheStatement) {
  const World w = make_world("one");
  pqxx::connection c(app_url());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'one', true)", w.company[0]);
  const auto customer = linked_customer(tx, tx.exec_params1(
      "INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, customer_phone, user_message) "
      "VALUES ($1, 'one-1', ' Hana  Kato ', ' HANA@Example.com', '(555) 444-1212', 'hi') RETURNING id",
      w.tech[0])[0].as<long long>());
  ASSERT_TRUE(customer);
  const std::string id = "'" + *customer + "'::uuid";
  EXPECT_EQ(tx.exec1("SELECT name || '/' || email || '/' || phone FROM customers WHERE id = " + id)[0].as<std::string>(),
            "Hana Kato/hana@example.com/+15554441212");
  EXPECT_EQ(tx.exec1("SELECT string_agg(key_type || '=' || key_value, ',' ORDER BY key_type) FROM customer_matching_keys "
                     "WHERE customer_id = " + id)[0].as<std::string>(),
            "email=hana@example.com,name=hana kato,phone=+15554441212");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_audit_log WHERE customer_id = " + id +
                     " AND operation = 'INSERT' AND actor = 'one'")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT string_agg(event_type, ',' ORDER BY id) FROM customer_events WHERE customer_id = " + id)[0].as<std::string>(),
            "created,conversation_linked");
  EXPECT_EQ(tx.exec1("SELECT conversation_count || '/' || message_count || '/' || last_message_preview FROM customer_metrics "
                     "WHERE customer_id = " + id)[0].as<std::string>(),
            "1/1/hi");
  // the next row of the same transaction finds it by its phone in another format
  EXPECT_EQ(linked_customer(tx, tx.exec_params1("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_phone, user_message) "
                                                "VALUES ($1, 'one-2', '+1 555 444 1212', 'again') RETURNING id",
                                                w.tech[0])[0].as<long long>()),
            customer);
  tx.commit();
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM duplicate_queue WHERE customer_id = " + id), 1);
  // search finds it (customer_search and its term dictionary were written)
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_search WHERE customer_id = " + id + " AND email_lc = 'hana@example.com'"), 1);
  EXPECT_EQ(owner_count("SELECT customers FROM search_name_terms WHERE company_id = '" + w.company[0] + "' AND name = 'Hana Kato'"), 1);
}

// The application cannot skip the customer side effects by setting the deferral flag
// itself: its own customer inserts still get their audit row and keys.
TEST_F(ChatIngestBatchTest, TheDeferralFlagSetByTheApplicationSkipsNothing) {
  const World w = make_world("flag");
  pqxx::connection c(app_url());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.chat_defer_customer_effects', 'on', true), "
                 "set_config('app.chat_new_customers', 'garbage', true)", w.company[0]);
  const auto id = tx.exec_params1("INSERT INTO customers (company_id, name, email) VALUES ($1::uuid, 'Flag Person', 'flag@x.io') "
                                  "RETURNING id::text", w.company[0])[0].as<std::string>();
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_audit_log WHERE customer_id = '" + id + "'")[0].as<int>(), 1);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_matching_keys WHERE customer_id = '" + id + "'")[0].as<int>(), 2);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_metrics WHERE customer_id = '" + id + "'")[0].as<int>(), 1);
  // a chat row in the same transaction with a forged list still works
  tx.exec("SELECT set_config('app.chat_new_customers', '" + w.company[0] + "/" + id + "', true)");
  EXPECT_EQ(linked_customer(tx, tx.exec_params1("INSERT INTO \"VC Usage\" (tech_id, customer_email, user_message) "
                                                "VALUES ($1, 'FLAG@x.io', 'x') RETURNING id", w.tech[0])[0].as<long long>()),
            id);
  tx.commit();
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log WHERE customer_id = '" + id + "'"), 1);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
}

// Two sessions insert 40-row batches at once whose emails (in different case and
// padding) and phones overlap: one customer per email, every row linked, nothing
// failed, metrics exact.
TEST_F(ChatIngestBatchTest, ConcurrentBatchesSharingContactsCreateOneCustomerPerContact) {
  const World w = make_world("conc");
  constexpr int kSessions = 4;
  std::latch ready(kSessions);
  std::vector<std::string> errors(kSessions);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSessions; ++t) {
    threads.emplace_back([&, t] {
      try {
        pqxx::connection c(t % 2 ? owner_url() : app_url());
        for (int round = 0; round < 3; ++round) {
          pqxx::work tx(c);
          if (t % 2 == 0) tx.exec_params("SELECT set_config('app.company_id', $1, true)", w.company[0]);
          if (round == 0) ready.arrive_and_wait();
          // the same contacts in every session, spelled differently per session, in opposite
          // orders (sessions 2 and 3 backwards): a statement takes all of its bucket locks in
          // one ascending pass (0051), so no order deadlocks (matched row by row, as before
          // 0051, a deadlock would leave rows unlinked with a recorded failure)
          tx.exec_params(
              "INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, customer_phone, user_message) "
              "SELECT $1, 'conc-' || $2 || '-' || $3 || '-' || g, 'Person ' || g, "
              "       CASE WHEN $2::int % 2 = 0 THEN ' P' || g || '@X.IO ' ELSE 'p' || g || '@x.io' END, "
              "       CASE WHEN g % 3 = 0 THEN '(555) 700-' || (1000 + g) END, 'm' "
              "  FROM generate_series(1, 40) g ORDER BY CASE WHEN $2::int / 2 = 0 THEN g ELSE -g END",
              w.tech[0], std::to_string(t), std::to_string(round));
          tx.commit();
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  const std::string co = "'" + w.company[0] + "'";
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE session_id LIKE 'conc-%'"), kSessions * 3 * 40);
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE session_id LIKE 'conc-%' AND customer_id IS NULL"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE company_id = " + co + " AND name LIKE 'Person %'"), 40);
  EXPECT_EQ(owner_count("SELECT count(*) FROM (SELECT key_value FROM customer_matching_keys WHERE company_id = " + co +
                        " AND key_type = 'email' GROUP BY 1 HAVING count(*) > 1) d"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE company_id = " + co), 0);
  EXPECT_EQ(owner_count("SELECT sum(message_count) FROM customer_metrics WHERE company_id = " + co +
                        " AND customer_id IN (SELECT id FROM customers WHERE name LIKE 'Person %')"), kSessions * 3 * 40);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift(" + co + ")"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers c WHERE company_id = " + co + " AND name LIKE 'Person %' AND NOT EXISTS "
                        "(SELECT 1 FROM customer_audit_log a WHERE a.customer_id = c.id AND a.operation = 'INSERT')"), 0);
}

// A statement creating more customers than the deferred list holds (~540) writes the
// side effects in chunks: every customer has all of them, once.
TEST_F(ChatIngestBatchTest, AStatementCreatingThousandsOfCustomersGivesEachItsSideEffectsOnce) {
  // through the batch lookup (0051: its one customer INSERT), and down the row path, whose
  // new customers' side effects are deferred and written in chunks (app.test_row_by_row)
  for (const bool row_path : {false, true}) {
    SCOPED_TRACE(row_path ? "row path" : "batch lookup");
    const World w = make_world(row_path ? "long-r" : "long-b");
    {
      pqxx::connection c(owner_url());
      pqxx::work tx(c);
      if (row_path) tx.exec("SELECT set_config('app.test_row_by_row', 'on', true)");
      tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                     "SELECT $1, 'long-' || g, 'Long Person ' || g, 'long' || g || '@x.io', 'm' FROM generate_series(1, 1500) g",
                     w.tech[0]);
      // one email for 1000 more rows, in every case and padding: still one customer
      tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_email, user_message) "
                     "SELECT $1, 'same-' || g, CASE g % 3 WHEN 0 THEN ' SAME@X.IO ' WHEN 1 THEN 'same@x.io' ELSE 'Same@X.io' END, 'm' "
                     "FROM generate_series(1, 1000) g",
                     w.tech[0]);
      tx.commit();
    }
    const std::string co = "company_id = '" + w.company[0] + "'";
    const std::string chat = " AND customer_id IN (SELECT id FROM customers WHERE " + co + " AND (name LIKE 'Long Person %' OR email = 'same@x.io'))";
    EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE " + co + " AND name LIKE 'Long Person %'"), 1500);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE " + co + " AND email = 'same@x.io'"), 1);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log WHERE " + co + chat), 1501);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events WHERE event_type = 'created' AND " + co + chat), 1501);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics WHERE " + co + chat), 1501);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_search WHERE " + co + chat), 1501);
    EXPECT_EQ(owner_count("SELECT count(*) FROM duplicate_queue WHERE " + co + chat), 1501);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys WHERE key_type = 'name' AND " + co + chat), 1500);
    EXPECT_EQ(owner_count("SELECT message_count FROM customer_metrics WHERE " + co +
                          " AND customer_id = (SELECT id FROM customers WHERE " + co + " AND email = 'same@x.io')"), 1000);
    EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE " + co + " AND customer_id IS NULL"), 0);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
  }
}

// A legacy writer (the application role without a tenant: company from the tech id)
// inserting one statement with rows of two companies and an unknown tech id: each
// company's rows linked inside that company, the side effects in the right tenant,
// the writer's own setting back to empty afterwards.
TEST_F(ChatIngestBatchTest, ALegacyWriterBatchSpanningTwoCompaniesIsSyncedPerTenant) {
  const World w = make_world("legacy");
  {
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.company_id', '', true)");
    tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                   "SELECT CASE g % 3 WHEN 0 THEN $1 WHEN 1 THEN $2 ELSE $3 END, 'lg-' || (g % 4), 'Legacy ' || (g % 5), "
                   "       'legacy' || (g % 5) || '@x.io', 'm' FROM generate_series(1, 30) g",
                   w.tech[0], w.tech[1], w.ghost_tech);
    EXPECT_EQ(tx.exec1("SELECT coalesce(current_setting('app.company_id', true), '')")[0].as<std::string>(), "");
    // the metrics' row-by-row fallback of a company that is not the last one linked reads
    // the stored rows as that company (row-level security: it found none, 0051 review)
    tx.exec("SELECT set_config('app.test_fail_metrics_batch', 'on', true)");
    tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                   "SELECT CASE g % 2 WHEN 0 THEN $1 ELSE $2 END, 'lg-' || (g % 4), 'Legacy ' || (g % 5), "
                   "       'legacy' || (g % 5) || '@x.io', 'fallback' FROM generate_series(1, 6) g",
                   w.tech[0], w.tech[1]);
    tx.commit();
  }
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("company " + std::to_string(i));
    const std::string co = "company_id = '" + w.company[i] + "'";
    EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE " + co + " AND session_id LIKE 'lg-%'"), 13);
    EXPECT_EQ(owner_count("SELECT sum(message_count) FROM customer_metrics WHERE " + co),
              owner_count("SELECT count(*) FROM \"VC Usage\" WHERE " + co + " AND customer_id IS NOT NULL"));
    EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE " + co), 0);
    EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" v WHERE " + co + " AND session_id LIKE 'lg-%' AND NOT EXISTS "
                          "(SELECT 1 FROM customers c WHERE c.company_id = v.company_id AND c.id = v.customer_id)"), 0);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customers c WHERE " + co + " AND name LIKE 'Legacy %' AND NOT EXISTS "
                          "(SELECT 1 FROM customer_search s WHERE s.company_id = c.company_id AND s.customer_id = c.id)"), 0);
    EXPECT_GT(owner_count("SELECT count(*) FROM customers WHERE " + co + " AND name LIKE 'Legacy %'"), 0);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log a WHERE " + co +
                          " AND operation = 'INSERT' AND customer_id IN (SELECT id FROM customers WHERE " + co + " AND name LIKE 'Legacy %')"),
              owner_count("SELECT count(*) FROM customers WHERE " + co + " AND name LIKE 'Legacy %'"));
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[i] + "')"), 0);
  }
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE tech_id = '" + w.ghost_tech + "' AND company_id IS NULL AND customer_id IS NULL"), 10);
}

// A legacy multi-row INSERT (no row linked by its writer) is matched by the statement
// trigger with one batch lookup (0051), not row by row: a row-by-row regression would
// give the same rows and pass every comparison above, so count the calls.
TEST_F(ChatIngestBatchTest, ALegacyMultiRowInsertIsMatchedWithOneBatchLookupNotRowByRow) {
  const World w = make_world("once");
  auto calls = [](pqxx::work& tx, const std::string& signature) {
    auto r = tx.exec("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcid = '" + signature +
                     "'::regprocedure");
    return r[0][0].as<long long>();
  };
  pqxx::connection c(superuser_url());
  pqxx::work tx(c);
  tx.exec("SET LOCAL track_functions = 'pl'");
  // 40 rows: 20 new contacts and, for each, a second row of the same contact
  tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                 "SELECT $1, 'once-' || (g % 20), 'Once ' || (g % 20), 'once' || (g % 20) || '@x.io', 'm' "
                 "FROM generate_series(1, 40) g",
                 w.tech[0]);
  EXPECT_EQ(calls(tx, "chat_match_batch(uuid,jsonb,bigint[])"), 1);
  EXPECT_EQ(calls(tx, "chat_match_customer(uuid,bigint,text,text,text,text,boolean,boolean,bigint[])"), 0);
  EXPECT_EQ(tx.exec1("SELECT count(DISTINCT customer_id) FILTER (WHERE customer_id IS NOT NULL) || '/' || count(*) "
                     "FROM \"VC Usage\" WHERE session_id LIKE 'once-%'")[0].as<std::string>(),
            "20/40");
  // the test hook sends a statement down the row path instead
  tx.exec("SELECT set_config('app.test_row_by_row', 'on', true)");
  tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_email, user_message) "
                 "SELECT $1, 'twice-' || g, 'twice' || g || '@x.io', 'm' FROM generate_series(1, 3) g",
                 w.tech[0]);
  EXPECT_EQ(calls(tx, "chat_match_batch(uuid,jsonb,bigint[])"), 1);
  EXPECT_EQ(calls(tx, "chat_match_customer(uuid,bigint,text,text,text,text,boolean,boolean,bigint[])"), 3);
  tx.commit();
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
}

// The rows are matched in the order the statement inserted them, as the BEFORE trigger
// matched them, whatever their ids (a writer replaying a dump gives its own).
TEST_F(ChatIngestBatchTest, RowsAreMatchedInTheOrderInsertedNotInIdOrder) {
  const World w = make_world("order");
  pqxx::connection c(owner_url());
  pqxx::work tx(c);
  const auto ids = tx.exec("SELECT nextval(pg_get_serial_sequence('\"VC Usage\"', 'id')) FROM generate_series(1, 2)");
  const auto low = ids[0][0].as<long long>(), high = ids[1][0].as<long long>();
  // first the higher id with an email (creates the customer), then the lower id of the same
  // session without any contact: row by row it follows the session
  tx.exec_params("INSERT INTO \"VC Usage\" (id, tech_id, session_id, customer_email, user_message) "
                 "VALUES ($1, $3, 'ord-1', 'ord1@x.io', 'first'), ($2, $3, 'ord-1', NULL, 'second')",
                 high, low, w.tech[0]);
  const auto linked = tx.exec("SELECT id, customer_id::text FROM \"VC Usage\" WHERE id IN (" + std::to_string(low) + ", " +
                              std::to_string(high) + ") ORDER BY id");
  tx.commit();
  ASSERT_EQ(linked.size(), 2u);
  ASSERT_FALSE(linked[1][1].is_null());
  EXPECT_FALSE(linked[0][1].is_null()) << "the row without contact did not follow its session";
  EXPECT_EQ(linked[0][1].as<std::string>(""), linked[1][1].as<std::string>());
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
}

// Row by row, a row saw the statement's rows before it, not those after it. A long
// conversation sent in one statement (more rows than the lookup's window of a session's
// 200 latest rows) stays with the customer its session already has, on the batch path
// and on the row path (0051's p_hide).
TEST_F(ChatIngestBatchTest, ALongConversationInOneStatementStaysWithItsSessionsCustomer) {
  for (const bool row_path : {false, true}) {
    SCOPED_TRACE(row_path ? "row path" : "batch lookup");
    const World w = make_world(row_path ? "long-r" : "long-b");
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    const auto first = tx.exec_params1("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                                       "VALUES ($1, 'long', 'Long Talker', 'long@x.io', 'hi') RETURNING id",
                                       w.tech[0])[0].as<long long>();
    const auto owner = tx.exec1("SELECT customer_id::text FROM \"VC Usage\" WHERE id = " + std::to_string(first))[0].as<std::string>();
    if (row_path) tx.exec("SELECT set_config('app.test_row_by_row', 'on', true)");
    // 250 more rows of the session, each with a new email and phone: the session wins (0023)
    tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_email, customer_phone, user_message) "
                   "SELECT $1, 'long', 'other' || g || '@x.io', '+1 555 300 ' || lpad(g::text, 4, '0'), 'm' "
                   "FROM generate_series(1, 250) g",
                   w.tech[0]);
    tx.commit();
    EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 'long' AND company_id = '" + w.company[0] +
                          "' AND customer_id = '" + owner + "'"),
              251);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE company_id = '" + w.company[0] +
                          "' AND (email LIKE 'other%' OR phone LIKE '+1555300%')"),
              0);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
  }
}

// The deferred side effects are retried after a deadlock (the term dictionaries of
// two statements creating customers with the same names); a third deadlock fails the
// statement, which then stores nothing.
TEST_F(ChatIngestBatchTest, ADeadlockInTheDeferredSideEffectsIsRetriedTwice) {
  const World w = make_world("dl");
  auto insert = [&](const std::string& deadlocks, const std::string& tag) {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    // the row path creates the customers, with their side effects deferred to the flush
    tx.exec("SELECT set_config('app.test_flush_deadlocks', '" + deadlocks + "', true), "
            "set_config('app.test_row_by_row', 'on', true)");
    tx.exec_params("INSERT INTO \"VC Usage\" (tech_id, session_id, customer_name, customer_email, user_message) "
                   "SELECT $1, $2 || g, 'Dl Person ' || $2 || g, $2 || g || '@x.io', 'm' FROM generate_series(1, 20) g",
                   w.tech[0], tag);
    tx.commit();
  };
  insert("2", "ok");
  const std::string co = "company_id = '" + w.company[0] + "'";
  const std::string made = " AND customer_id IN (SELECT id FROM customers WHERE " + co + " AND name LIKE 'Dl Person ok%')";
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE " + co + " AND name LIKE 'Dl Person ok%'"), 20);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log WHERE " + co + made), 20);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_search WHERE " + co + made), 20);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics WHERE message_count = 1 AND " + co + made), 20);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics_drift('" + w.company[0] + "')"), 0);
  try {
    insert("3", "no");
    ADD_FAILURE() << "three deadlocks should fail the statement";
  } catch (const pqxx::deadlock_detected&) {
    // 40P01, what the statement got
  }
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE session_id LIKE 'no%'"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers WHERE name LIKE 'Dl Person no%'"), 0);
}

// The set-based backfill (migration 0035) against link_chat_row() in id order, the
// path `tradesphere backfill` took before: the same customers (with every side
// effect), links, keys, metrics, session counts, events, audit rows, search rows,
// duplicate candidates and queue, and the same failure rows (the rows stored while
// paused have their 'paused' failure resolved by both), with one batch per company
// and with batches of 7 rows (sessions and contacts spanning batches).
TEST_F(ChatIngestBatchTest, TheSetBasedBackfillLinksCreatesAndCountsExactlyLikeLinkChatRowInIdOrder) {
  for (unsigned seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto rows = generate(seed, 150);
    for (auto& r : rows) r.explicit_customer.reset();  // linked at insert: nothing for a backfill to do
    const World linked = make_world("bf-linked" + std::to_string(seed));
    insert_paused_then_link(linked, rows);
    for (int batch : {1000, 7}) {
      SCOPED_TRACE("batches of " + std::to_string(batch));
      const World backfilled = make_world("bf-set" + std::to_string(seed) + "-" + std::to_string(batch));
      const auto [set_based, row_by_row] = insert_paused_then_backfill(backfilled, rows, batch);
      EXPECT_GT(set_based, 0);
      EXPECT_EQ(row_by_row, 0) << "no row fails here: every batch is linked set-based";
      expect_same_world(backfilled, linked);
    }
    // the data really exercises the rules
    EXPECT_GT(owner_count("SELECT count(*) FROM customers WHERE company_id = '" + linked.company[0] +
                          "' AND source = 'chat'"), 3);
    EXPECT_GT(owner_count("SELECT count(*) FROM customer_events WHERE company_id IN ('" + linked.company[0] + "', '" +
                          linked.company[1] + "') AND event_type = 'match_conflict'"), 0);
    EXPECT_GT(owner_count("SELECT count(*) FROM chat_sync_failures WHERE company_id = '" + linked.company[0] +
                          "' AND reason = 'paused' AND resolved_at IS NOT NULL"), 0);
  }
}

// A row whose sync fails (here: a customers trigger refuses every new customer named
// "Carl") makes its batch go row by row, which records that row's failure with its
// SQLSTATE and links the others, exactly as link_chat_row() in id order; batches
// without such a row stay set-based. The metrics statement failing sends the batch
// row by row too, with the same result.
TEST_F(ChatIngestBatchTest, ABackfillBatchWithAFailingRowGoesRowByRowAndRecordsTheSameFailures) {
  {
    pqxx::connection c(owner_url());
    pqxx::work tx(c);
    tx.exec(R"sql(
      CREATE FUNCTION test_refuse_carl() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.name = 'Carl' THEN
          RAISE EXCEPTION 'customer Carl refused by a test trigger' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_carl BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION test_refuse_carl();
    )sql");
    tx.commit();
  }
  auto rows = generate(21, 150);
  for (auto& r : rows) r.explicit_customer.reset();
  const World linked = make_world("fail-linked");
  insert_paused_then_link(linked, rows);
  const auto failures = owner_count("SELECT count(*) FROM chat_sync_failures WHERE company_id IN ('" + linked.company[0] +
                                    "', '" + linked.company[1] + "') AND reason = 'error' AND sqlstate = '23514' "
                                    "AND message = 'customer Carl refused by a test trigger' AND resolved_at IS NULL");
  ASSERT_GT(failures, 0) << "the data must contain rows whose sync fails";

  const World backfilled = make_world("fail-set");
  const auto [set_based, row_by_row] = insert_paused_then_backfill(backfilled, rows, 10);
  EXPECT_GT(row_by_row, 0);
  EXPECT_GT(set_based, 0) << "batches without a failing row stay set-based";
  expect_same_world(backfilled, linked);

  const World metrics_fallback = make_world("fail-metrics");
  const auto [set_based2, row_by_row2] = insert_paused_then_backfill(metrics_fallback, rows, 1000, true);
  EXPECT_EQ(set_based2, 0);
  EXPECT_EQ(row_by_row2, 2);
  expect_same_world(metrics_fallback, linked);
}

}  // namespace

// Migration 0043: `POST /v1/chat`'s batches match the records whose contact certainly belongs
// to a customer with one lookup and give the trigger only the others. Batches of 1, 7, 40
// and all rows, on mostly known contacts (generate_wide) and on the colliding pools
// (generate): the same links, customers, keys, metrics, events, duplicate candidates and
// failures as single-row inserts in the same order, and the lookup really answered.
TEST_F(ChatIngestBatchTest, ApiBatchesMatchKnownContactsAtOnceExactlyLikeRowByRow) {
  int answered = 0;
  for (unsigned seed : {11u, 12u, 13u}) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{40}, std::size_t{1000}}) {
      for (bool wide : {true, false}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", batch " + std::to_string(batch) + (wide ? ", wide" : ", colliding"));
        const auto rows = api_shaped(wide ? generate_wide(seed, 150) : generate(seed, 100));
        const std::string tag = std::to_string(seed) + "-" + std::to_string(batch) + (wide ? "w" : "c");
        const World api = make_world("api" + tag);
        const World single = make_world("apisingle" + tag);
        answered += insert_api_batches(api, rows, batch);
        insert_row_by_row(single, rows);
        expect_same_world(api, single);
      }
    }
  }
  EXPECT_GT(answered, 300) << "the batch lookup answered too few records to test it";
}

// POST /v1/chat batches of mostly new contacts (generate_new; the colliding pools and the
// wide ones again) in batches of 1, 7, 40 and all: the customers chat_match_batch() creates
// set-based (0048) are the ones, with the same keys, links, metrics, events, search rows,
// audit and queue entries, as single-row inserts create in the same order; and it really
// created many of them.
TEST_F(ChatIngestBatchTest, ApiBatchesCreateCertainlyNewContactsAtOnceExactlyLikeRowByRow) {
  int created = 0;
  for (unsigned seed : {21u, 22u, 23u}) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{40}, std::size_t{1000}}) {
      for (int gen = 0; gen < 3; ++gen) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", batch " + std::to_string(batch) + ", generator " + std::to_string(gen));
        const auto rows = api_shaped(gen == 0 ? generate_new(seed, 150) : (gen == 1 ? generate(seed, 100) : generate_wide(seed, 120)));
        const std::string tag = std::to_string(seed) + "-" + std::to_string(batch) + "n" + std::to_string(gen);
        const World api = make_world("apinew" + tag);
        const World single = make_world("apinewsingle" + tag);
        insert_api_batches(api, rows, batch, &created);
        insert_row_by_row(single, rows);
        expect_same_world(api, single);
      }
    }
  }
  EXPECT_GT(created, 300) << "the batch created too few customers to test it";
}

// The batch lookup's answers on a hand-made batch (pre-existing: Dana with session s-pre,
// Eve, Finn, Old Finn merged into Finn, Gone deleted), then the same world check.
TEST_F(ChatIngestBatchTest, TheBatchLookupAnswersOnlyWhatTheRowByRowRuleCertainlyAnswers) {
  const World w = make_world("hand");
  const World single = make_world("handsingle");
  struct Rec { std::string session; Opt email, phone; };
  const std::vector<Rec> recs = {
      {"h1", " DANA@W.COM", std::nullopt},         // 0 Dana, but shares Dana's email with 7 -> row path
      {"h2", "eve@w.com", "+1 555 999 0000"},      // 1 email Eve, phone Dana: a conflict event -> row path
      {"h3", "Eve@W.com ", std::nullopt},          // 2 Eve, but shares Eve's email with 1 -> row path
      {"h4", "finn.old@w.com", std::nullopt},      // 3 merged first candidate -> row path
      {"h5", "gone@w.com", std::nullopt},          // 4 deleted -> row path (creates)
      {"h6", "new-b@n.io", std::nullopt},          // 5 new -> row path (creates N)
      {"s-pre", "NEW-B@n.io ", std::nullopt},      // 6 session Dana, email new here: shares new-b with 5 -> row path (N wins)
      {"s-pre", "dana@w.com", std::nullopt},       // 7 session Dana, email Dana: but the session is 6's -> row path
      {"h9", "finn@w.com", "(555) 777-1111"},      // 8 known: Finn (phone unknown)
      {"h9", " FINN@w.com", std::nullopt},         // 9 known: Finn, same session as 8
      {"", std::nullopt, "555-777-1111"},          // 10 phone first written by 8? no: keys are written only on create -> row path (creates)
      {"h12", std::nullopt, std::nullopt},         // 11 no contact -> row path (orphan)
  };
  // 8 and 10 share the phone, 10 is not known: so 8, and 9 through the session, go the row path;
  // 5 -> 6 (email) -> 7 (session) -> 0 (email): no record of the batch is answered
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : recs) {
    j.push_back({{"session_id", r.session}, {"customer_email", r.email ? nlohmann::json(*r.email) : nlohmann::json()},
                 {"customer_phone", r.phone ? nlohmann::json(*r.phone) : nlohmann::json()}});
  }
  std::vector<Opt> answers;
  {
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.company_id', $1, true)", w.company[0]);
    for (const auto& r : tx.exec_params("SELECT (SELECT name FROM customers WHERE id = u.c) FROM unnest(chat_match_known_batch($1::uuid, "
                                        "$2::jsonb)) WITH ORDINALITY AS u (c, o) ORDER BY u.o",
                                        w.company[0], j.dump())) {
      answers.push_back(r[0].as<Opt>());
    }
    // records 0, 8 and 9 alone: all known
    nlohmann::json j3 = nlohmann::json::array({j[0], j[8], j[9]});
    const auto r3 = tx.exec_params("SELECT (SELECT name FROM customers WHERE id = u.c) FROM unnest(chat_match_known_batch($1::uuid, "
                                   "$2::jsonb)) WITH ORDINALITY AS u (c, o) ORDER BY u.o",
                                   w.company[0], j3.dump());
    ASSERT_EQ(r3.size(), 3u);
    EXPECT_EQ(r3[0][0].as<Opt>(), Opt("Pre Dana"));
    EXPECT_EQ(r3[1][0].as<Opt>(), Opt("Pre Finn"));
    EXPECT_EQ(r3[2][0].as<Opt>(), Opt("Pre Finn"));
    // a batch without record 10: 8 and 9 are known
    auto j2 = j;
    j2.erase(10);
    const auto r2 = tx.exec_params("SELECT (SELECT name FROM customers WHERE id = u.c) FROM unnest(chat_match_known_batch($1::uuid, "
                                   "$2::jsonb)) WITH ORDINALITY AS u (c, o) ORDER BY u.o",
                                   w.company[0], j2.dump());
    ASSERT_EQ(r2.size(), 11u);
    EXPECT_EQ(r2[8][0].as<Opt>(), Opt("Pre Finn"));
    EXPECT_EQ(r2[9][0].as<Opt>(), Opt("Pre Finn"));
    tx.exec("SELECT set_config('app.test_fail_sync', 'on', true)");
    EXPECT_EQ(tx.exec_params1("SELECT count(u) FROM unnest(chat_match_known_batch($1::uuid, $2::jsonb)) u", w.company[0],
                              j.dump())[0].as<int>(), 0) << "the failure hook sends every record the row path";
  }
  const std::vector<Opt> expected = {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                                     std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  EXPECT_EQ(answers, expected);

  // paused: no answers (the trigger records the rows as paused)
  pause(w.company[1], true);
  {
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.company_id', $1, true)", w.company[1]);
    EXPECT_EQ(tx.exec_params1("SELECT count(u) FROM unnest(chat_match_known_batch($1::uuid, $2::jsonb)) u", w.company[1],
                              j.dump())[0].as<int>(), 0);
  }
  pause(w.company[1], false);

  std::vector<ChatRow> rows;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    ChatRow r;
    r.company = 0;
    r.session = recs[i].session;
    r.name = "Hand " + std::to_string(i);
    r.email = recs[i].email;
    r.phone = recs[i].phone;
    r.created_at = i % 3 ? Opt("2026-01-01 10:00:00+00") : Opt("2025-01-01 10:00:00+00");
    r.message = "hand " + std::to_string(i);
    rows.push_back(r);
  }
  insert_api_batches(w, rows, rows.size());
  insert_row_by_row(single, rows);
  expect_same_world(w, single);
  // the chain 5 -> 6 -> 7 happened: 6 went to the new customer, 7 back to Dana, each with a conflict
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events WHERE company_id = '" + w.company[0] +
                        "' AND event_type = 'match_conflict' AND payload->>'conflict' = 'session'"), 2);
}
