// Chat sync trigger (migrations 0002/0006): race-free matching, a chat row is
// never lost, pause, legacy writers, conflict, merged and soft-deleted customers.
// docs/database.md, "Chat sync".
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/chat_rows.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::testing::linked_customer;

const std::string kCompanyA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kCompanyB = "bbbbbbbb-0000-4000-8000-00000000000b";

void set_tenant(pqxx::transaction_base& tx, const std::string& company) {
  tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'sync-test', true)",
                 company);
}

class ChatSyncTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('" + kCompanyA + "', 'a', 'A'), ('" + kCompanyB +
           "', 'b', 'B')");
    w.exec("INSERT INTO app_users (tech_id, company_id, role) VALUES ('tech-a', '" + kCompanyA + "', 'agent'), ('tech-b', '" +
           kCompanyB + "', 'agent')");
    w.commit();
  }

  // A query as the owner (sees every tenant), first column of the first row as text ("" for NULL).
  std::string owner_scalar(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null()) return "";
    return r[0][0].as<std::string>();
  }
  long long owner_count(const std::string& sql) { return std::stoll(owner_scalar(sql)); }

  // Inserts one chat row as the application in `company`; returns its id.
  long long app_chat(const std::string& company, const std::string& tech, const std::string& session,
                     const std::string& name, const std::string& email, const std::string& phone,
                     bool fail_sync = false) {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    set_tenant(w, company);
    if (fail_sync) w.exec("SELECT set_config('app.test_fail_sync', 'on', true)");
    auto r = w.exec_params(
        "INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, customer_phone, user_message) "
        "VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), 'hello') RETURNING id",
        session, tech, name, email, phone);
    w.commit();
    return r[0][0].as<long long>();
  }

  std::string customer_of(long long chat_id) {
    return owner_scalar("SELECT customer_id FROM \"VC Usage\" WHERE id = " + std::to_string(chat_id));
  }

  // 16 connections insert rows concurrently (each in its own transaction, as the
  // application). Returns the error messages (none expected).
  struct StormRow {
    std::string company, tech, session, email, phone;
  };
  std::vector<std::string> storm(const std::vector<StormRow>& rows) {
    constexpr int kThreads = 16;
    std::vector<std::string> errors;
    std::mutex mu;
    std::latch ready(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          pqxx::connection c(app_url());
          ready.arrive_and_wait();
          for (std::size_t i = static_cast<std::size_t>(t); i < rows.size(); i += kThreads) {
            const auto& row = rows[i];
            try {
              pqxx::work w(c);
              set_tenant(w, row.company);
              w.exec_params(
                  "INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, customer_phone, "
                  "user_message) VALUES ($1, $2, 'Storm Person', nullif($3, ''), nullif($4, ''), 'storm')",
                  row.session, row.tech, row.email, row.phone);
              w.commit();
            } catch (const std::exception& e) {
              std::lock_guard lock(mu);
              errors.push_back(e.what());
            }
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          errors.push_back(std::string("connection: ") + e.what());
        }
      });
    }
    for (auto& th : threads) th.join();
    return errors;
  }

  // The storm's rows of `company` (session prefix) are all linked to one active
  // customer, the only active one of the company, holding `value` in `column`.
  void expect_one_customer_per_company(const std::string& company, const std::string& prefix, const std::string& column,
                                       const std::string& value) {
    SCOPED_TRACE("company " + company);
    const std::string rows = " FROM \"VC Usage\" WHERE company_id = '" + company + "' AND session_id LIKE '" + prefix + "%'";
    const std::string where = " WHERE company_id = '" + company + "'";
    EXPECT_EQ(owner_count("SELECT count(*)" + rows), 200);
    EXPECT_EQ(owner_count("SELECT count(customer_id)" + rows), 200) << "every row linked";
    EXPECT_EQ(owner_count("SELECT count(DISTINCT customer_id)" + rows), 1);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customers" + where + " AND status = 'active'"), 1)
        << "exactly one active customer";
    EXPECT_EQ(owner_scalar("SELECT c." + column + " FROM customers c WHERE c.id = (SELECT max(customer_id::text)::uuid" +
                           rows + ")"),
              value);
    EXPECT_EQ(owner_scalar("SELECT status FROM customers WHERE id = (SELECT max(customer_id::text)::uuid" + rows + ")"),
              "active");
    EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures" + where), 0);
    EXPECT_EQ(owner_count("SELECT m.message_count FROM customer_metrics m WHERE m.customer_id = "
                          "(SELECT max(customer_id::text)::uuid" + rows + ")"),
              200);
  }

  // In company A the key was seen before (a customer holding it was soft-deleted),
  // so the storm races on an existing lock row; in B the key is new.
  void key_seen_before_in_a(const std::string& email, const std::string& phone) {
    const std::string old = customer_of(app_chat(kCompanyA, "tech-a", "before-storm", "Old", email, phone));
    ASSERT_NE(old, "");
    pqxx::connection c(app_url());
    pqxx::work w(c);
    set_tenant(w, kCompanyA);
    w.exec("UPDATE customers SET status = 'deleted' WHERE id = '" + old + "'");
    w.commit();
  }
};

TEST_F(ChatSyncTest, SameEmailStormFromSixteenConnectionsCreatesOneCustomerPerCompany) {
  const std::vector<std::string> variants = {"storm@example.com", " Storm@Example.com", "STORM@EXAMPLE.COM  ",
                                             "\tstorm@example.COM", "Storm@example.Com", " storm@EXAMPLE.com "};
  key_seen_before_in_a("storm@example.com", "");
  std::vector<StormRow> rows;
  for (int i = 0; i < 400; ++i) {
    const bool a = i % 2 == 0;
    rows.push_back({a ? kCompanyA : kCompanyB, a ? "tech-a" : "tech-b", "email-storm-" + std::to_string(i),
                    variants[static_cast<std::size_t>(i) % variants.size()], ""});
  }
  auto errors = storm(rows);
  ASSERT_TRUE(errors.empty()) << errors.size() << " inserts failed, first: " << errors.front();
  expect_one_customer_per_company(kCompanyA, "email-storm-", "email", "storm@example.com");
  expect_one_customer_per_company(kCompanyB, "email-storm-", "email", "storm@example.com");
}

TEST_F(ChatSyncTest, SamePhoneStormInManyFormatsCreatesOneCustomerPerCompany) {
  const std::vector<std::string> variants = {"(555) 987-6543", "+1 555 987 6543", "1-555-987-6543",
                                             "555.987.6543",   "001 555 987 6543", "+1(555)9876543"};
  key_seen_before_in_a("", "555-987-6543");
  std::vector<StormRow> rows;
  for (int i = 0; i < 400; ++i) {
    const bool a = i % 2 == 0;
    rows.push_back({a ? kCompanyA : kCompanyB, a ? "tech-a" : "tech-b", "phone-storm-" + std::to_string(i), "",
                    variants[static_cast<std::size_t>(i) % variants.size()]});
  }
  auto errors = storm(rows);
  ASSERT_TRUE(errors.empty()) << errors.size() << " inserts failed, first: " << errors.front();
  expect_one_customer_per_company(kCompanyA, "phone-storm-", "phone", "+15559876543");
  expect_one_customer_per_company(kCompanyB, "phone-storm-", "phone", "+15559876543");
}

TEST_F(ChatSyncTest, ChatRowSurvivesAFailureInsideTheSyncAndIsRepairedLater) {
  long long id = 0;
  ASSERT_NO_THROW(id = app_chat(kCompanyA, "tech-a", "s-fail", "Failing Fred", "fred@example.com", "", true));
  EXPECT_EQ(customer_of(id), "") << "stored orphaned";
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers"), 0) << "the failed attempt's work is rolled back";
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE reason = 'error' AND resolved_at IS NULL "
                        "AND message LIKE '%test_fail_sync%' AND vc_usage_id = " + std::to_string(id)),
            1);

  // repair: the CLI links it with the trigger's rule and resolves the failure
  std::string linked = owner_scalar("SELECT link_chat_row(" + std::to_string(id) + ")");
  EXPECT_FALSE(linked.empty());
  EXPECT_EQ(customer_of(id), linked);
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE resolved_at IS NULL"), 0);
  EXPECT_EQ(owner_scalar("SELECT email FROM customers WHERE id = '" + linked + "'"), "fred@example.com");
}

TEST_F(ChatSyncTest, PausedSyncStoresRowsOrphanedAndResumeLinksThem) {
  owner_scalar("SELECT set_chat_sync_paused('" + kCompanyA + "', true)");
  long long paused_a = app_chat(kCompanyA, "tech-a", "p1", "Paula", "paula@example.com", "");
  long long running_b = app_chat(kCompanyB, "tech-b", "p2", "Bert", "bert@example.com", "");
  EXPECT_EQ(customer_of(paused_a), "");
  EXPECT_NE(customer_of(running_b), "") << "only company A is paused";
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE reason = 'paused' AND resolved_at IS NULL"), 1);

  owner_scalar("SELECT set_chat_sync_paused(NULL, true)");  // global switch
  long long paused_b = app_chat(kCompanyB, "tech-b", "p3", "Bea", "bea@example.com", "");
  EXPECT_EQ(customer_of(paused_b), "");

  owner_scalar("SELECT set_chat_sync_paused(NULL, false)");
  EXPECT_EQ(owner_scalar("SELECT retry_chat_sync('" + kCompanyA + "')"), "0") << "A itself is still paused";
  owner_scalar("SELECT set_chat_sync_paused('" + kCompanyA + "', false)");
  EXPECT_EQ(owner_scalar("SELECT retry_chat_sync('" + kCompanyA + "')"), "1");
  EXPECT_EQ(owner_scalar("SELECT retry_chat_sync('" + kCompanyB + "')"), "1");
  EXPECT_NE(customer_of(paused_a), "");
  EXPECT_NE(customer_of(paused_b), "");
  EXPECT_EQ(owner_count("SELECT count(*) FROM chat_sync_failures WHERE resolved_at IS NULL"), 0);
}

TEST_F(ChatSyncTest, LegacyWritersWithoutCompanyKeepWorkingAndUnknownTechIdsAreQuarantined) {
  {
    // the application role with no tenant: the legacy shape (no company_id, no customer_id)
    pqxx::connection c(app_url());
    pqxx::work w(c);
    w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, user_message) "
           "VALUES ('legacy-1', 'tech-a', 'Lena Legacy', 'lena@example.com', 'legacy app')");
    w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, user_message) "
           "VALUES ('legacy-2', 'no-such-tech', 'Ghost', 'who am I')");
    w.commit();
  }
  {
    // the owner as a legacy writer (may read back)
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    auto r = w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) "
                    "VALUES ('legacy-3', 'tech-b', 'otto@example.com', 'legacy owner') RETURNING company_id, id");
    // linked by the end of the statement (migration 0051), so read back, not RETURNING
    const auto linked = linked_customer(w, r[0][1].as<long long>());
    w.commit();
    EXPECT_EQ(r[0][0].as<std::string>(), kCompanyB);
    EXPECT_TRUE(linked);
  }
  EXPECT_EQ(owner_scalar("SELECT company_id FROM \"VC Usage\" WHERE session_id = 'legacy-1'"), kCompanyA);
  EXPECT_NE(owner_scalar("SELECT customer_id FROM \"VC Usage\" WHERE session_id = 'legacy-1'"), "");
  EXPECT_EQ(owner_scalar("SELECT company_id FROM \"VC Usage\" WHERE session_id = 'legacy-2'"), "") << "kept, no company";
  EXPECT_EQ(owner_count("SELECT count(*) FROM vc_usage_quarantine q JOIN \"VC Usage\" v ON v.id = q.vc_usage_id "
                        "WHERE v.session_id = 'legacy-2' AND q.resolved_at IS NULL"),
            1);
  {
    // a tenant never sees a quarantined row
    pqxx::connection c(app_url());
    pqxx::work w(c);
    set_tenant(w, kCompanyA);
    EXPECT_EQ(w.exec("SELECT count(*) FROM \"VC Usage\" WHERE tech_id = 'no-such-tech'")[0][0].as<int>(), 0);
  }
  // without a tenant, the company must be exactly what the tech id implies
  for (const std::string& setting : {std::string(""), std::string("garbage")}) {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    w.exec_params("SELECT set_config('app.company_id', $1, true)", setting);
    const std::string forged = "INSERT INTO \"VC Usage\" (company_id, session_id, tech_id) VALUES ('" + kCompanyB +
                               "', 'forged', 'tech-a')";
    const std::string plain = "INSERT INTO \"VC Usage\" (session_id, tech_id) VALUES ('garbage-tenant', 'tech-a')";
    EXPECT_THROW(w.exec(setting.empty() ? forged : plain), pqxx::sql_error) << "setting '" << setting << "'";
  }
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE session_id IN ('forged', 'garbage-tenant')"), 0);

  // an administrator assigns the quarantined rows; they are linked like any chat row
  EXPECT_EQ(owner_scalar("SELECT assign_quarantined_chat_rows('no-such-tech', '" + kCompanyB + "')"), "1");
  EXPECT_EQ(owner_scalar("SELECT company_id FROM \"VC Usage\" WHERE session_id = 'legacy-2'"), kCompanyB);
  EXPECT_NE(owner_scalar("SELECT customer_id FROM \"VC Usage\" WHERE session_id = 'legacy-2'"), "");
  EXPECT_EQ(owner_count("SELECT count(*) FROM vc_usage_quarantine WHERE resolved_at IS NULL"), 0);
}

TEST_F(ChatSyncTest, ATenantCannotWriteChatRowsForAnotherCompanysTechId) {
  EXPECT_THROW(app_chat(kCompanyA, "tech-b", "cross", "Eve", "eve@example.com", ""), pqxx::sql_error);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customers"), 0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\""), 0);
}

TEST_F(ChatSyncTest, SessionReuseThenEmailThenPhoneAndTheEmailWinsAConflict) {
  long long by_email = app_chat(kCompanyA, "tech-a", "s1", "Xena", "xena@example.com", "");
  long long by_phone = app_chat(kCompanyA, "tech-a", "s2", "Yuri", "", "(555) 111-2222");
  const std::string x = customer_of(by_email);
  const std::string y = customer_of(by_phone);
  ASSERT_NE(x, "");
  ASSERT_NE(y, "");
  ASSERT_NE(x, y);

  // same session, no contact data: the session's customer
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s1", "", "", "")), x);
  // phone in another format, new session
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s3", "", "", "+1 555 111 2222")), y);
  // email and phone point at different customers: the email wins, a conflict event is written
  long long conflict = app_chat(kCompanyA, "tech-a", "s4", "X or Y", " XENA@example.com", "555-111-2222");
  EXPECT_EQ(customer_of(conflict), x);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events WHERE event_type = 'match_conflict' AND customer_id = '" +
                        x + "' AND payload->>'phone_customer_id' = '" + y + "' AND (payload->>'vc_usage_id')::bigint = " +
                        std::to_string(conflict)),
            1);
  // no contact data and a new session: orphaned
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s5", "", "", "")), "");
  // a name alone never matches an existing customer
  EXPECT_NE(customer_of(app_chat(kCompanyA, "tech-a", "s6", "Xena", "", "")), x);
  EXPECT_EQ(owner_scalar("SELECT source || '/' || lifecycle_stage FROM customers WHERE id = '" + x + "'"), "chat/lead");
}

// Migration 0023: a row whose email belongs to another active customer than its
// session's goes to the email's owner, and the two become a "same session"
// duplicate candidate; the session still wins for rows without an email or with
// the session customer's own or an unknown email.
TEST_F(ChatSyncTest, TheEmailOwnerWinsOverTheSessionAndTheTwoBecomeASameSessionCandidate) {
  const std::string ann = customer_of(app_chat(kCompanyA, "tech-a", "s-ann", "Ann", "ann@example.com", ""));
  const std::string bob = customer_of(app_chat(kCompanyA, "tech-a", "s-bob", "Bob", "bob@example.com", ""));
  ASSERT_NE(ann, "");
  ASSERT_NE(bob, "");
  ASSERT_NE(ann, bob);
  // Bob's conversation, no email / his own email / an email nobody holds: Bob
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s-bob", "", "", "")), bob);
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s-bob", "", " BOB@example.com", "")), bob);
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s-bob", "", "new@example.com", "")), bob);
  // Bob's conversation with Ann's email (differently cased and padded): Ann
  const long long row = app_chat(kCompanyA, "tech-a", "s-bob", "", "  Ann@Example.COM ", "");
  EXPECT_EQ(customer_of(row), ann);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events WHERE event_type = 'match_conflict' AND payload->>'conflict' = 'session' AND customer_id = '" +
                        ann + "' AND payload->>'session_customer_id' = '" + bob +
                        "' AND (payload->>'vc_usage_id')::bigint = " + std::to_string(row)),
            1);
  const std::string pair = "FROM duplicate_candidates WHERE company_id = '" + kCompanyA + "' AND customer_a = least('" +
                           ann + "'::uuid, '" + bob + "'::uuid) AND customer_b = greatest('" + ann + "'::uuid, '" +
                           bob + "'::uuid)";
  EXPECT_EQ(owner_scalar("SELECT score::text " + pair), "0.8");
  EXPECT_EQ(owner_count("SELECT count(*) " + pair + " AND evidence @> '[{\"comparison\": \"same session\"}]'"), 1);
  // one email, one customer: nobody else holds Ann's email
  EXPECT_EQ(owner_count("SELECT count(DISTINCT customer_id) FROM customer_matching_keys WHERE company_id = '" +
                        kCompanyA + "' AND key_type = 'email' AND key_value = 'ann@example.com'"),
            1);
  // again: the pair is not duplicated, its evidence not repeated
  app_chat(kCompanyA, "tech-a", "s-bob", "", "ann@example.com", "");
  EXPECT_EQ(owner_count("SELECT jsonb_array_length(evidence) " + pair), 1);
  // dismissed: the pair goes and is not proposed again
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b) VALUES ('" + kCompanyA +
           "', least('" + ann + "'::uuid, '" + bob + "'::uuid), greatest('" + ann + "'::uuid, '" + bob + "'::uuid))");
    w.commit();
  }
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "s-bob", "", "ann@example.com", "")), ann);
  EXPECT_EQ(owner_count("SELECT count(*) " + pair), 0);
}

TEST_F(ChatSyncTest, MergedCustomersResolveToTheTargetAndSoftDeletedOnesAreNeverLinked) {
  const std::string src = customer_of(app_chat(kCompanyA, "tech-a", "m1", "Old Mia", "mia.old@example.com", ""));
  const std::string dst = customer_of(app_chat(kCompanyA, "tech-a", "m2", "Mia", "mia@example.com", ""));
  {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    set_tenant(w, kCompanyA);
    w.exec("UPDATE \"VC Usage\" SET customer_id = '" + dst + "' WHERE customer_id = '" + src + "'");
    w.exec("UPDATE customers SET status = 'merged', merged_into_customer_id = '" + dst + "' WHERE id = '" + src + "'");
    w.commit();
  }
  EXPECT_EQ(customer_of(app_chat(kCompanyA, "tech-a", "m3", "", "MIA.OLD@example.com", "")), dst)
      << "the merged-away customer's key resolves to the target";

  const std::string gone = customer_of(app_chat(kCompanyA, "tech-a", "d1", "Dora", "dora@example.com", "555 000 1111"));
  {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    set_tenant(w, kCompanyA);
    w.exec("UPDATE customers SET status = 'deleted' WHERE id = '" + gone + "'");
    w.commit();
  }
  // same session, same email, same phone: still not linked to the deleted customer
  const std::string fresh = customer_of(app_chat(kCompanyA, "tech-a", "d1", "Dora", "dora@example.com", "555 000 1111"));
  EXPECT_NE(fresh, "");
  EXPECT_NE(fresh, gone);
  EXPECT_EQ(owner_scalar("SELECT status FROM customers WHERE id = '" + gone + "'"), "deleted");
  EXPECT_EQ(owner_count("SELECT count(*) FROM \"VC Usage\" WHERE customer_id = '" + gone + "'"), 1);
}

}  // namespace
