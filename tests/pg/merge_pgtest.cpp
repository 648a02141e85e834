// Merge and undo-merge against a real database (issue 6): guards, reference
// moves discovered from the catalog, and the round-trip property: merge then undo
// restores every affected row image.
#include <algorithm>
#include <future>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/database.hpp"
#include "db/merge_repository.hpp"
#include "domain/errors.hpp"
#include "services/customer_merge_service.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::db::Database;
using tradesphere::db::PoolOptions;
using tradesphere::db::Tx;
using tradesphere::domain::RequestContext;
using tradesphere::domain::Role;
using tradesphere::services::CustomerMergeService;
namespace domain = tradesphere::domain;

using Rows = std::map<std::string, std::map<std::string, nlohmann::json>>;  // table -> key -> row image

class MergeTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    company_ = make_company("acme");
    PoolOptions o;
    o.url = app_url();
    o.size = 2;
    db_ = std::make_unique<Database>(o);
    admin_ = {company_, "admin-1", Role::kAdmin, "corr-1"};
  }

  std::string make_company(const std::string& slug) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    auto id = w.exec_params1("INSERT INTO companies (slug, name) VALUES ($1, $1) RETURNING id::text", slug)[0]
                  .as<std::string>();
    w.commit();
    return id;
  }

  std::string add_customer(const std::string& company, const std::optional<std::string>& name,
                           const std::optional<std::string>& email = std::nullopt,
                           const std::optional<std::string>& phone = std::nullopt,
                           const std::string& tags = "{}", const std::string& source = "manual") {
    RequestContext ctx{company, "seed", Role::kAdmin, ""};
    return db_->transact(ctx, "seed", [&](Tx& tx) {
      return tx
          .exec1("INSERT INTO customers (company_id, name, email, phone, tags, source, notes) "
                 "VALUES ($1, $2, $3, $4, $5::text[], $6, $7) RETURNING id::text",
                 company, name, email, phone, tags, source, name ? std::optional<std::string>("note of " + *name)
                                                                  : std::nullopt)[0]
          .as<std::string>();
    });
  }

  void add_chat(const std::string& customer, const std::string& session, const std::string& message,
                const std::string& at) {
    db_->transact(admin_, "seed", [&](Tx& tx) {
      tx.exec0("INSERT INTO \"VC Usage\" (company_id, customer_id, session_id, tech_id, user_message, ai_response, "
               "created_at) VALUES ($1, $2, $3, 'tech', $4, 'ok', $5::timestamptz)",
               company_, customer, session, message, at);
    });
  }

  void add_event(const std::string& customer, const std::string& text) {
    db_->transact(admin_, "seed", [&](Tx& tx) {
      tx.exec0("INSERT INTO customer_events (company_id, customer_id, event_type, payload) "
               "VALUES ($1, $2, 'note', jsonb_build_object('text', $3::text))",
               company_, customer, text);
    });
  }

  template <typename T>
  T owner_query(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<T>();
  }

  long drift() {
    return owner_query<long>("SELECT count(*) FROM customer_metrics_drift('" + company_ + "')");
  }

  // Full row images of every table a merge touches, keyed by primary key.
  Rows snapshot() {
    static const std::pair<const char*, const char*> kTables[] = {
        {"customers", "id::text"},
        {"\"VC Usage\"", "id::text"},
        {"customer_events", "id::text"},
        {"customer_matching_keys", "key_type || ':' || key_value || ':' || customer_id"},
        {"customer_session_counts", "customer_id || ':' || session_key"},
        {"customer_metrics", "customer_id::text"},
        {"customer_search", "customer_id::text"},
        {"duplicate_dismissals", "customer_a || ':' || customer_b"},
    };
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    Rows out;
    for (const auto& [table, key] : kTables) {
      auto r = w.exec(std::string("SELECT ") + key + ", to_jsonb(t)::text FROM " + table +
                      " t WHERE company_id = " + w.quote(company_));
      for (const auto& row : r) out[table][row[0].as<std::string>()] = nlohmann::json::parse(row[1].as<std::string>());
    }
    return out;
  }

  std::string company_;
  std::unique_ptr<Database> db_;
  RequestContext admin_;
};

// Columns the database maintains on every update, which an undo (itself an
// update) necessarily advances: documented in docs/duplicates.md.
nlohmann::json strip_maintained(const std::string& table, nlohmann::json row) {
  if (table == "customers") {
    row.erase("version");
    row.erase("updated_at");
    row.erase("updated_by");
  }
  if (table == "customer_matching_keys") row.erase("created_at");
  return row;
}

template <typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST_F(MergeTest, EveryCustomerForeignKeyIsClassified) {
  auto fks = db_->transact(admin_, "t", [](Tx& tx) { return tradesphere::db::customer_foreign_keys(tx); });
  ASSERT_GE(fks.size(), 8u);
  for (const auto& fk : fks)
    EXPECT_TRUE(tradesphere::db::reference_action(fk).has_value())
        << fk.table << " (" << fk.columns << ", " << fk.constraint << ") references customers but merge ignores it";
}

TEST_F(MergeTest, RefusesWhileAForeignKeyToCustomersIsUnclassified) {
  auto t = add_customer(company_, "T");
  auto s = add_customer(company_, "S");
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("CREATE TABLE loyalty_cards (company_id uuid NOT NULL, id bigint PRIMARY KEY, customer_id uuid NOT NULL, "
           "FOREIGN KEY (company_id, customer_id) REFERENCES customers (company_id, id))");
    w.commit();
  }
  CustomerMergeService merges(*db_);
  auto message = error_message([&] { merges.merge_customers(admin_, t, {s}); });
  EXPECT_NE(message.find("loyalty_cards"), std::string::npos) << message;
  EXPECT_THROW(merges.merge_customers(admin_, t, {s}), domain::ServiceError);
  EXPECT_EQ(owner_query<std::string>("SELECT status FROM customers WHERE id = '" + s + "'"), "active");
}

TEST_F(MergeTest, MovesChatsAndEventsAndMarksSourcesMerged) {
  auto target = add_customer(company_, "Jane Smith", "jane@example.com", std::nullopt, "{vip}");
  auto a = add_customer(company_, "Jane Smyth", std::nullopt, "+14155550100", "{newsletter}");
  auto b = add_customer(company_, "J. Smith", "jane.smith@work.example", std::nullopt, "{}", "chat");
  add_chat(a, "s1", "hello", "2024-01-01T10:00:00Z");
  add_chat(a, "s1", "again", "2024-01-01T10:05:00Z");
  add_chat(b, "s2", "hi there", "2024-02-01T10:00:00Z");
  add_event(b, "called");

  CustomerMergeService merges(*db_);
  auto preview = merges.preview_merge(admin_, target, {b, a});
  EXPECT_EQ(preview.moves["chat_rows"], 3);
  EXPECT_EQ(preview.moves["conversations"], 2);
  EXPECT_EQ(preview.moves["tags"], 1);
  auto phone = std::find_if(preview.fields.begin(), preview.fields.end(), [](auto& f) { return f.field == "phone"; });
  ASSERT_NE(phone, preview.fields.end());
  EXPECT_EQ(phone->proposed, "+14155550100");
  EXPECT_EQ(phone->reason, "only non-empty value");

  auto result = merges.merge_customers(admin_, target, {b, a}, {{"email", "jane@work.example"}});
  EXPECT_EQ(result.moved["VC Usage"], 3);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM \"VC Usage\" WHERE customer_id = '" + target + "'"), 3);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM customer_events WHERE event_type = 'note' AND customer_id = '" +
                              target + "'"),
            1);
  EXPECT_EQ(owner_query<std::string>("SELECT status || ',' || merged_into_customer_id || ',' || "
                                     "(deleted_at IS NOT NULL) FROM customers WHERE id = '" + a + "'"),
            "merged," + target + ",true");
  EXPECT_EQ(owner_query<std::string>("SELECT email || '|' || phone || '|' || array_to_string(tags, ',') "
                                     "FROM customers WHERE id = '" + target + "'"),
            "jane@work.example|+14155550100|vip,newsletter");
  EXPECT_EQ(owner_query<long>("SELECT conversation_count FROM customer_metrics WHERE customer_id = '" + target + "'"),
            2);
  EXPECT_EQ(drift(), 0);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM customer_merge_log WHERE field_choices->>'merge_id' = '" +
                              result.merge_id + "'"),
            2);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM customer_events WHERE event_type = 'merged'"), 3);
}

TEST_F(MergeTest, GuardsNameTheProblem) {
  CustomerMergeService merges(*db_);
  auto t = add_customer(company_, "T");
  auto s = add_customer(company_, "S");
  auto u = add_customer(company_, "U");
  EXPECT_THROW(merges.merge_customers(admin_, t, {t}), domain::ValidationError);
  EXPECT_THROW(merges.merge_customers(admin_, t, {}), domain::ValidationError);

  RequestContext agent{company_, "agent", Role::kAgent, ""};
  EXPECT_THROW(merges.merge_customers(agent, t, {s}), domain::PermissionError);

  auto other_company = make_company("other");
  auto foreign = add_customer(other_company, "Foreign");
  auto foreign_msg = error_message([&] { merges.merge_customers(admin_, t, {foreign}); });
  auto missing_msg = error_message([&] { merges.merge_customers(admin_, t, {"00000000-0000-0000-0000-000000000000"}); });
  EXPECT_THROW(merges.merge_customers(admin_, t, {foreign}), domain::NotFoundError);
  EXPECT_EQ(foreign_msg.find(foreign) != std::string::npos, missing_msg.find("00000000") != std::string::npos);

  merges.merge_customers(admin_, t, {s});
  auto again = error_message([&] { merges.merge_customers(admin_, u, {s}); });
  EXPECT_NE(again.find("already merged into customer " + t), std::string::npos) << again;
  EXPECT_THROW(merges.merge_customers(admin_, u, {s}), domain::ConflictError);

  // chain: merging into s (merged into t) names t
  auto chain = error_message([&] { merges.merge_customers(admin_, s, {u}); });
  EXPECT_NE(chain.find("merge into " + t), std::string::npos) << chain;

  auto d = add_customer(company_, "D");
  db_->transact(admin_, "t", [&](Tx& tx) {
    tx.exec0("UPDATE customers SET status = 'deleted' WHERE company_id = $1 AND id = $2", company_, d);
  });
  auto deleted = error_message([&] { merges.merge_customers(admin_, t, {d}); });
  EXPECT_NE(deleted.find("is deleted"), std::string::npos) << deleted;
}

TEST_F(MergeTest, UndoTwiceIsAConflictAndBlockersAreNamed) {
  CustomerMergeService merges(*db_);
  auto t = add_customer(company_, "T");
  auto s = add_customer(company_, "S");
  auto m = merges.merge_customers(admin_, t, {s});
  RequestContext agent{company_, "agent", Role::kAgent, ""};
  EXPECT_THROW(merges.undo_merge(agent, m.merge_id), domain::PermissionError);
  merges.undo_merge(admin_, m.merge_id);
  EXPECT_THROW(merges.undo_merge(admin_, m.merge_id), domain::ConflictError);
  EXPECT_THROW(merges.undo_merge(admin_, "11111111-2222-3333-4444-555555555555"), domain::NotFoundError);

  // the target absorbed another customer later: that merge is named
  auto m2 = merges.merge_customers(admin_, t, {s});
  auto x = add_customer(company_, "X");
  auto m3 = merges.merge_customers(admin_, t, {x});
  auto blocked = error_message([&] { merges.undo_merge(admin_, m2.merge_id); });
  EXPECT_NE(blocked.find(m3.merge_id), std::string::npos) << blocked;
  merges.undo_merge(admin_, m3.merge_id);

  // the target was edited after the merge
  db_->transact(admin_, "t", [&](Tx& tx) {
    tx.exec0("UPDATE customers SET notes = 'edited' WHERE company_id = $1 AND id = $2", company_, t);
  });
  auto edited = error_message([&] { merges.undo_merge(admin_, m2.merge_id); });
  EXPECT_NE(edited.find("was changed after the merge"), std::string::npos) << edited;
  EXPECT_THROW(merges.undo_merge(admin_, m2.merge_id), domain::ConflictError);

  // the target itself was merged away later
  auto y = add_customer(company_, "Y");
  auto t2 = add_customer(company_, "T2");
  auto s2 = add_customer(company_, "S2");
  auto m4 = merges.merge_customers(admin_, t2, {s2});
  auto m5 = merges.merge_customers(admin_, y, {t2});
  auto away = error_message([&] { merges.undo_merge(admin_, m4.merge_id); });
  EXPECT_NE(away.find("merged into customer " + y), std::string::npos) << away;
  EXPECT_NE(away.find(m5.merge_id), std::string::npos) << away;
}

TEST_F(MergeTest, OpposingConcurrentMergesSerializeWithoutCycles) {
  for (int round = 0; round < 5; ++round) {
    auto a = add_customer(company_, "A" + std::to_string(round));
    auto b = add_customer(company_, "B" + std::to_string(round));
    CustomerMergeService merges(*db_);
    auto attempt = [&](const std::string& into, const std::string& from) {
      try {
        merges.merge_customers(admin_, into, {from});
        return std::string("ok");
      } catch (const domain::ConflictError&) {
        return std::string("conflict");
      }
    };
    auto f1 = std::async(std::launch::async, attempt, a, b);
    auto f2 = std::async(std::launch::async, attempt, b, a);
    std::multiset<std::string> outcomes{f1.get(), f2.get()};
    EXPECT_EQ(outcomes, (std::multiset<std::string>{"conflict", "ok"})) << "round " << round;
    EXPECT_EQ(owner_query<long>("SELECT count(*) FROM customers WHERE status = 'merged' AND id IN ('" + a + "', '" +
                                b + "')"),
              1);
  }
}

// Property: random customers with random chats/events/tags; merge moves every
// reference and keeps row counts; undo restores every row image.
TEST_F(MergeTest, MergeThenUndoRestoresEveryRowImage) {
  CustomerMergeService merges(*db_);
  std::mt19937 rng(20240601);
  const char* kNames[] = {"Ann Lee", "Bob Stone", "Cara Diaz", "Dan Wu", "Eve Moss"};
  const char* kTags[] = {"{}", "{vip}", "{a,b}", "{b,c}", "{newsletter}"};
  std::map<std::string, std::size_t> compared;  // guards against a vacuous comparison
  for (int round = 0; round < 6; ++round) {
    std::vector<std::string> ids;
    int n = 2 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      auto name = std::string(kNames[rng() % 5]) + " " + std::to_string(round);
      std::optional<std::string> email;
      if (rng() % 2) email = "u" + std::to_string(round) + "_" + std::to_string(i) + "@example.com";
      std::optional<std::string> phone;
      if (rng() % 2) phone = "+1415555" + std::to_string(1000 + round * 10 + i);
      ids.push_back(add_customer(company_, name, email, phone, kTags[rng() % 5], rng() % 3 ? "manual" : "chat"));
      int chats = static_cast<int>(rng() % 6);
      for (int c = 0; c < chats; ++c)
        add_chat(ids.back(), "r" + std::to_string(round) + "s" + std::to_string(rng() % 3),
                 "message " + std::to_string(c), "2024-03-0" + std::to_string(1 + rng() % 9) + "T1" +
                                                     std::to_string(rng() % 10) + ":00:00Z");
      int events = static_cast<int>(rng() % 3);
      for (int e = 0; e < events; ++e) add_event(ids.back(), "event " + std::to_string(e));
    }
    std::shuffle(ids.begin(), ids.end(), rng);
    std::string target = ids[0];
    std::vector<std::string> sources(ids.begin() + 1, ids.end());
    std::set<std::string> source_set(sources.begin(), sources.end());

    auto before = snapshot();
    auto m = merges.merge_customers(admin_, target, sources);
    auto merged = snapshot();

    EXPECT_EQ(merged["\"VC Usage\""].size(), before["\"VC Usage\""].size());
    EXPECT_EQ(merged["customers"].size(), before["customers"].size());
    for (const char* table : {"\"VC Usage\"", "customer_events"}) {
      for (const auto& [key, row] : before[table]) {
        ASSERT_TRUE(merged[table].count(key)) << table << " row " << key << " disappeared";
        const auto& now = merged[table][key];
        if (source_set.count(row["customer_id"].get<std::string>()))
          EXPECT_EQ(now["customer_id"], target) << table << " row " << key << " still references a source";
        else
          EXPECT_EQ(now, row) << table << " row " << key << " changed although it referenced no source";
      }
      for (const auto& [key, row] : merged[table])
        EXPECT_FALSE(source_set.count(row["customer_id"].get<std::string>()) && before[table].count(key))
            << table << " row " << key << " references a source after the merge";
    }
    EXPECT_EQ(drift(), 0) << "round " << round;

    merges.undo_merge(admin_, m.merge_id);
    auto after = snapshot();
    EXPECT_EQ(drift(), 0) << "round " << round;
    for (const auto& [table, rows] : before) {
      for (const auto& [key, row] : rows) {
        ASSERT_TRUE(after[table].count(key)) << table << " row " << key << " missing after undo";
        ++compared[table];
        EXPECT_EQ(strip_maintained(table, after[table][key]), strip_maintained(table, row))
            << table << " row " << key << " differs after undo (round " << round << ")";
      }
      if (table != "customer_events") {  // merge/undo write timeline events: the only new rows
        EXPECT_EQ(after[table].size(), rows.size()) << table;
      }
    }
  }
  for (const char* table : {"customers", "\"VC Usage\"", "customer_events", "customer_matching_keys",
                            "customer_session_counts", "customer_metrics"})
    EXPECT_GT(compared[table], 10u) << table;
}

}  // namespace
