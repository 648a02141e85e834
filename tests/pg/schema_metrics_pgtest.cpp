// Incremental customer_metrics (migration 0007): after a randomized sequence of chat
// inserts, deletes, edits, relinks, merges and soft deletes, the stored metrics equal
// a from-scratch recomputation written here independently. docs/database.md, "Metrics".
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

const std::string kCompanyA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kCompanyB = "bbbbbbbb-0000-4000-8000-00000000000b";

// prefix + n (spelled out: GCC 12 warns falsely about "literal" + std::string here)
std::string numbered(const char* prefix, int n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

// customer id -> "status|conversations|messages|first|last|last id|preview"
std::map<std::string, std::string> rows_to_map(const pqxx::result& r) {
  std::map<std::string, std::string> out;
  for (const auto& row : r) {
    std::string v;
    for (int i = 1; i < static_cast<int>(row.size()); ++i) v += (row[i].is_null() ? "<null>" : row[i].as<std::string>()) + "|";
    out[row[0].as<std::string>()] = v;
  }
  return out;
}

class MetricsTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('" + kCompanyA + "', 'a', 'A'), ('" + kCompanyB + "', 'b', 'B')");
    w.exec("INSERT INTO app_users (tech_id, company_id) VALUES ('tech-a', '" + kCompanyA + "'), ('tech-b', '" + kCompanyB + "')");
    // noise in another company, with the same sessions and emails
    w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) "
           "SELECT 's' || (g % 5), 'tech-b', 'p' || (g % 3) || '@example.com', 'b' || g FROM generate_series(1, 20) g");
    w.commit();
  }

  std::map<std::string, std::string> stored(pqxx::transaction_base& tx) {
    return rows_to_map(tx.exec(
        "SELECT customer_id, customer_status, conversation_count, message_count, first_contact_at, last_contact_at, "
        "       last_message_id, last_message_preview FROM customer_metrics WHERE company_id = '" + kCompanyA + "'"));
  }

  // Written independently of the migration's customer_metrics_expected().
  std::map<std::string, std::string> recomputed(pqxx::transaction_base& tx) {
    return rows_to_map(tx.exec(
        "WITH r AS ("
        "  SELECT customer_id, id, created_at, user_message,"
        "         CASE WHEN coalesce(session_id, '') = '' THEN 'row:' || id ELSE session_id END AS conv"
        "    FROM \"VC Usage\" WHERE company_id = '" + kCompanyA + "' AND customer_id IS NOT NULL) "
        "SELECT c.id, c.status, count(DISTINCT r.conv), count(r.id), min(r.created_at), max(r.created_at),"
        "       (SELECT l.id FROM r l WHERE l.customer_id = c.id ORDER BY l.created_at DESC NULLS LAST, l.id DESC LIMIT 1),"
        "       (SELECT left(l.user_message, 200) FROM r l WHERE l.customer_id = c.id"
        "         ORDER BY l.created_at DESC NULLS LAST, l.id DESC LIMIT 1)"
        "  FROM customers c LEFT JOIN r ON r.customer_id = c.id"
        " WHERE c.company_id = '" + kCompanyA + "' GROUP BY c.id, c.status"));
  }
};

TEST_F(MetricsTest, RandomizedChatActivityKeepsMetricsEqualToARecomputation) {
  std::mt19937 rng(20240611);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  pqxx::connection app(app_url());
  pqxx::connection owner(owner_url());
  auto tenant = [](pqxx::transaction_base& tx) {
    tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'metrics-test', true)",
                   kCompanyA);
  };
  auto random_chat_row = [&](pqxx::transaction_base& tx) {
    auto r = tx.exec("SELECT id FROM \"VC Usage\" WHERE company_id = '" + kCompanyA + "' ORDER BY id OFFSET floor(random() * "
                     "greatest((SELECT count(*) FROM \"VC Usage\" WHERE company_id = '" + kCompanyA + "'), 1)) LIMIT 1");
    return r.empty() ? std::string() : r[0][0].as<std::string>();
  };
  auto active_customers = [&](pqxx::transaction_base& tx) {
    std::vector<std::string> ids;
    for (const auto& row : tx.exec("SELECT id FROM customers WHERE status = 'active' ORDER BY id")) ids.push_back(row[0].as<std::string>());
    return ids;
  };
  {
    // as in an adopted legacy database (the ChatRowsWithoutCreatedAt variant): rows without a timestamp
    pqxx::work o(owner);
    o.exec("ALTER TABLE \"VC Usage\" ALTER COLUMN created_at DROP NOT NULL");
    o.commit();
  }
  std::map<std::string, int> done;
  for (int step = 0; step < 500; ++step) {
    const int op = pick(100);
    if (op < 45) {  // new chat rows (sometimes several in one statement), as the application
      pqxx::work w(app);
      tenant(w);
      const int n = pick(4) == 0 ? 3 : 1;
      for (int k = 0; k < n; ++k) {
        const std::string session = pick(10) == 0 ? std::string() : numbered("s", pick(25));
        const std::string email = pick(5) == 0 ? std::string() : numbered("p", pick(12)).append("@example.com");
        const std::string name = pick(3) == 0 ? std::string() : numbered("Person ", pick(12));
        const std::string message = pick(20) == 0 ? std::string()
                                                  : numbered("message ", step).append(static_cast<std::size_t>(pick(300)), 'x');
        // messy legacy data: one row in eight without a timestamp, and equal timestamps (ties by id)
        w.exec_params(
            "INSERT INTO \"VC Usage\" (session_id, tech_id, customer_name, customer_email, user_message, created_at) "
            "VALUES (nullif($1, ''), 'tech-a', nullif($2, ''), nullif($3, ''), nullif($4, ''), "
            "        CASE WHEN $6 THEN NULL ELSE date_trunc('hour', now()) - make_interval(mins => $5) END)",
            session, name, email, message, pick(8) == 0 ? 0 : pick(400) * 60, pick(8) == 0);
      }
      w.commit();
      ++done["insert"];
    } else if (op < 55) {  // delete a chat row (administrative; the application has no DELETE)
      pqxx::work w(owner);
      auto id = random_chat_row(w);
      if (!id.empty()) w.exec("DELETE FROM \"VC Usage\" WHERE id = " + id);
      w.commit();
      ++done["delete"];
    } else if (op < 70) {  // relink a chat row to another customer or orphan it, as the application
      pqxx::work w(app);
      tenant(w);
      auto id = random_chat_row(w);
      auto ids = active_customers(w);
      if (!id.empty() && !ids.empty()) {
        const std::string target = pick(5) == 0 ? "NULL" : "'" + ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))] + "'";
        w.exec("UPDATE \"VC Usage\" SET customer_id = " + target + " WHERE id = " + id);
        ++done["relink"];
      }
      w.commit();
    } else if (op < 80) {  // edit time, text or session of a row (owner)
      pqxx::work w(owner);
      auto id = random_chat_row(w);
      if (!id.empty()) {
        w.exec_params("UPDATE \"VC Usage\" SET created_at = CASE WHEN $1 % 9 = 0 THEN NULL ELSE now() - make_interval(mins => $1) END, user_message = $2, "
                      "session_id = CASE WHEN $3 THEN session_id ELSE 's' || $1 % 7 END WHERE id = " + id,
                      pick(30000), "edited " + std::to_string(step), pick(2) == 0);
      }
      w.commit();
      ++done["edit"];
    } else if (op < 90) {  // merge one customer into another, as the application (moves every row at once)
      pqxx::work w(app);
      tenant(w);
      auto ids = active_customers(w);
      if (ids.size() >= 2) {
        const int n = static_cast<int>(ids.size());
        const int s = pick(n);
        const auto& src = ids[static_cast<std::size_t>(s)];
        const auto& dst = ids[static_cast<std::size_t>((s + 1 + pick(n - 1)) % n)];
        w.exec("UPDATE \"VC Usage\" SET customer_id = '" + dst + "' WHERE customer_id = '" + src + "'");
        w.exec("UPDATE customers SET status = 'merged', merged_into_customer_id = '" + dst + "' WHERE id = '" + src + "'");
        ++done["merge"];
      }
      w.commit();
    } else if (op < 95) {  // a backfill batch: rows stored while sync was paused, then linked a few at a time
      {
        pqxx::work o(owner);
        o.exec("SELECT set_chat_sync_paused('" + kCompanyA + "', true)");
        o.commit();
      }
      {
        pqxx::work w(app);
        tenant(w);
        for (int k = 0, n = 1 + pick(4); k < n; ++k) {
          w.exec_params("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message, created_at) "
                        "VALUES ($1, 'tech-a', $2, 'paused ' || $3, CASE WHEN $4 THEN NULL ELSE now() - make_interval(mins => $3::integer) END)",
                        numbered("s", pick(25)), numbered("p", pick(12)).append("@example.com"), pick(5000), pick(6) == 0);
        }
        w.commit();
      }
      pqxx::work o(owner);
      o.exec("SELECT set_chat_sync_paused('" + kCompanyA + "', false)");
      o.exec("SELECT link_chat_row(id) FROM (SELECT id FROM \"VC Usage\" WHERE company_id = '" + kCompanyA +
             "' AND customer_id IS NULL ORDER BY id LIMIT " + std::to_string(1 + pick(3)) + ") b");
      o.commit();
      ++done["backfill"];
    } else {  // soft delete or restore a customer (its rows stay linked and counted)
      pqxx::work w(app);
      tenant(w);
      if (pick(2) == 0) {
        w.exec("UPDATE customers SET status = 'deleted' WHERE id = (SELECT id FROM customers WHERE status = 'active' "
               "ORDER BY id LIMIT 1)");
      } else {
        w.exec("UPDATE customers SET status = 'active' WHERE id = (SELECT id FROM customers WHERE status = 'deleted' "
               "ORDER BY id LIMIT 1)");
      }
      w.commit();
      ++done["status"];
    }
    // after every step, not only at the end: a drift that a later step repairs is still a bug
    pqxx::nontransaction check(owner);
    const auto drift = check.exec("SELECT kind, customer_id::text FROM customer_metrics_drift('" + kCompanyA + "')");
    ASSERT_EQ(drift.size(), 0u) << "step " << step << " (op " << op << "): " << drift[0][0].as<std::string>()
                                << " drift of customer " << drift[0][1].c_str();
  }
  for (const char* kind : {"insert", "delete", "relink", "edit", "merge", "status", "backfill"}) {
    EXPECT_GT(done[kind], 5) << "the sequence should exercise " << kind;
  }

  pqxx::nontransaction tx(owner);
  const auto expected = recomputed(tx);
  const auto actual = stored(tx);
  ASSERT_GT(expected.size(), 5U);
  EXPECT_GT(tx.exec("SELECT count(*) FROM customer_metrics WHERE company_id = '" + kCompanyA +
                    "' AND conversation_count > 1")[0][0].as<int>(), 0);
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM customer_metrics_drift('" + kCompanyB + "')")[0][0].as<int>(), 0);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM chat_sync_failures WHERE reason = 'metrics'")[0][0].as<int>(), 0)
      << "no metrics update failed";
  EXPECT_EQ(tx.exec("SELECT count(*) FROM chat_sync_failures WHERE reason = 'error'")[0][0].as<int>(), 0);
  // what a backfill batch has not linked yet is still recorded as paused, nothing else
  EXPECT_EQ(tx.exec("SELECT count(*) FROM chat_sync_failures f JOIN \"VC Usage\" v ON v.id = f.vc_usage_id "
                    " WHERE f.reason = 'paused' AND f.resolved_at IS NULL AND v.customer_id IS NOT NULL")[0][0].as<int>(),
            0);
}

TEST_F(MetricsTest, DriftIsDetectedAndRebuildRepairsIt) {
  pqxx::connection owner(owner_url());
  pqxx::nontransaction tx(owner);
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('d1', 'tech-a', 'drift@example.com', 'one'), ('d2', 'tech-a', 'drift@example.com', 'two')");
  ASSERT_EQ(tx.exec("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0][0].as<int>(), 0);
  tx.exec("UPDATE customer_metrics SET message_count = message_count + 1, last_message_preview = 'tampered' "
          "WHERE company_id = '" + kCompanyA + "'");
  tx.exec("DELETE FROM customer_session_counts WHERE company_id = '" + kCompanyA + "' AND session_key = 'd2'");
  auto drift = tx.exec("SELECT kind FROM customer_metrics_drift('" + kCompanyA + "') ORDER BY kind");
  ASSERT_EQ(drift.size(), 2U);
  EXPECT_EQ(drift[0][0].as<std::string>(), "metrics");
  EXPECT_EQ(drift[1][0].as<std::string>(), "session");
  EXPECT_EQ(tx.exec("SELECT rebuild_customer_metrics('" + kCompanyA + "')")[0][0].as<int>(), 1);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0][0].as<int>(), 0);
  EXPECT_EQ(stored(tx), recomputed(tx));
  EXPECT_EQ(tx.exec("SELECT message_count || '/' || conversation_count || '/' || last_message_preview "
                    "FROM customer_metrics WHERE company_id = '" + kCompanyA + "'")[0][0].as<std::string>(),
            "2/2/two");
}

// Migration 0040: the list's copy of the metrics on the customer's row follows every
// insert, update and delete of the metrics row, and is not an edit of the customer (no
// new version, no updated_at, no audit row); a copy that differs is reported by
// customer_metrics_drift() as kind 'list'.
TEST_F(MetricsTest, TheListCopyOnTheCustomerFollowsItsMetricsAndIsNotAnEdit) {
  pqxx::connection owner(owner_url());
  pqxx::nontransaction tx(owner);
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('c1', 'tech-a', 'copy@example.com', 'one'), ('c2', 'tech-a', 'copy@example.com', 'two')");
  const std::string who = "company_id = '" + kCompanyA + "' AND email = 'copy@example.com'";
  const std::string copy_sql =
      "SELECT metric_conversation_count || '/' || metric_message_count || '/' || "
      "coalesce(metric_last_message_preview, '<null>') || '/' || "
      "(metric_first_contact_at IS NOT NULL) || '/' || (metric_last_contact_at IS NOT NULL) FROM customers WHERE " + who;
  const std::string stamp_sql = "SELECT version || '/' || updated_at::text FROM customers WHERE " + who;
  const std::string audits_sql =
      "SELECT count(*) FROM customer_audit_log a JOIN customers c ON c.id = a.customer_id "
      "WHERE a.table_name = 'customers' AND a.operation = 'UPDATE' AND c." + who;
  const std::string list_drift_sql =
      "SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "') WHERE kind = 'list'";
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "2/2/two/true/true");
  const auto stamp = tx.exec1(stamp_sql)[0].as<std::string>();
  const auto audits = tx.exec1(audits_sql)[0].as<int>();

  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('c1', 'tech-a', 'copy@example.com', 'three')");
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "2/3/three/true/true");
  EXPECT_EQ(tx.exec1(stamp_sql)[0].as<std::string>(), stamp);
  EXPECT_EQ(tx.exec1(audits_sql)[0].as<int>(), audits);
  EXPECT_EQ(tx.exec1(list_drift_sql)[0].as<int>(), 0);

  // a copy changed behind the triggers' back is drift of kind 'list'; a rebuild repairs it
  tx.exec("UPDATE customers SET metric_message_count = 99 WHERE " + who);
  EXPECT_EQ(tx.exec1(list_drift_sql)[0].as<int>(), 1);
  tx.exec("UPDATE customer_metrics SET message_count = 0 WHERE company_id = '" + kCompanyA + "'");
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "2/0/three/true/true");
  tx.exec("SELECT rebuild_customer_metrics('" + kCompanyA + "')");
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "2/3/three/true/true");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0].as<int>(), 0);

  // without a metrics row the copy holds what the list's LEFT JOIN gave: 0, 0, NULLs
  tx.exec("DELETE FROM customer_metrics WHERE company_id = '" + kCompanyA + "'");
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "0/0/<null>/false/false");
  EXPECT_EQ(tx.exec1(list_drift_sql)[0].as<int>(), 0);
  tx.exec("SELECT rebuild_customer_metrics('" + kCompanyA + "')");
  EXPECT_EQ(tx.exec1(copy_sql)[0].as<std::string>(), "2/3/three/true/true");
  EXPECT_EQ(tx.exec1(stamp_sql)[0].as<std::string>(), stamp);
  EXPECT_EQ(tx.exec1(audits_sql)[0].as<int>(), audits);

  // an edit of the customer is still stamped and audited, without the copy among its changed fields
  tx.exec("UPDATE customers SET notes = 'edited' WHERE " + who);
  EXPECT_NE(tx.exec1(stamp_sql)[0].as<std::string>(), stamp);
  EXPECT_EQ(tx.exec1(audits_sql)[0].as<int>(), audits + 1);
  const auto changed = tx.exec1("SELECT array_to_string(a.changed_fields, ',') FROM customer_audit_log a JOIN customers c "
                                "ON c.id = a.customer_id WHERE a.operation = 'UPDATE' AND c." + who +
                                " ORDER BY a.id DESC LIMIT 1")[0]
                           .as<std::string>();
  EXPECT_NE(changed.find("notes"), std::string::npos) << changed;
  EXPECT_NE(changed.find("version"), std::string::npos) << changed;
  EXPECT_EQ(changed.find("metric_"), std::string::npos) << changed;
}

// Migration 0041: a multi-row chat insert's metrics statement writes the list copy of
// all its customers in that statement (the copy triggers then find it current and
// return early), and every other multi-row write of customer_metrics is still copied
// by the triggers: every row a statement changes is copied, a status-only update writes
// no customer version, and a metrics row moved to another customer leaves 0, 0 and
// NULLs on the one it left.
TEST_F(MetricsTest, TheListCopyFollowsMultiRowAndMovingMetricsUpdatesPerStatement) {
  pqxx::connection owner(owner_url());
  pqxx::nontransaction tx(owner);
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('m1', 'tech-a', 'm1@example.com', 'one'), ('m2', 'tech-a', 'm2@example.com', 'two'), "
          "('m2b', 'tech-a', 'm2@example.com', 'two b'), ('m3', 'tech-a', 'm3@example.com', 'three')");
  const std::string a = "company_id = '" + kCompanyA + "'";
  const auto id_of = [&](const std::string& email) {
    return tx.exec1("SELECT id::text FROM customers WHERE " + a + " AND email = '" + email + "'")[0].as<std::string>();
  };
  const std::string c1 = id_of("m1@example.com"), c2 = id_of("m2@example.com"), c3 = id_of("m3@example.com");
  const auto copy_of = [&](const std::string& id) {
    return tx.exec1("SELECT metric_conversation_count || '/' || metric_message_count || '/' || "
                    "coalesce(metric_last_message_preview, '<null>') || '/' || (metric_last_contact_at IS NOT NULL) "
                    "FROM customers WHERE " + a + " AND id = '" + id + "'")[0].as<std::string>();
  };
  const std::string list_drift = "SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "') WHERE kind = 'list'";
  const std::string versions = "SELECT string_agg(version::text, ',' ORDER BY id) FROM customers WHERE " + a;
  const std::string audits = "SELECT count(*) FROM customer_audit_log WHERE " + a + " AND operation = 'UPDATE'";
  EXPECT_EQ(copy_of(c1), "1/1/one/true");
  EXPECT_EQ(copy_of(c2), "2/2/two b/true");
  EXPECT_EQ(copy_of(c3), "1/1/three/true");
  EXPECT_EQ(tx.exec1(list_drift)[0].as<int>(), 0);
  // a second multi-row insert for known customers: their copies follow, no new version
  const auto v_before = tx.exec1(versions)[0].as<std::string>();
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('m1', 'tech-a', 'm1@example.com', 'one again'), ('m3b', 'tech-a', 'm3@example.com', 'three b')");
  EXPECT_EQ(copy_of(c1), "1/2/one again/true");
  EXPECT_EQ(copy_of(c3), "2/2/three b/true");
  EXPECT_EQ(tx.exec1(versions)[0].as<std::string>(), v_before);
  EXPECT_EQ(tx.exec1(list_drift)[0].as<int>(), 0);
  tx.exec("DELETE FROM \"VC Usage\" WHERE company_id = '" + kCompanyA + "' AND user_message IN ('one again', 'three b')");
  EXPECT_EQ(copy_of(c1), "1/1/one/true");
  EXPECT_EQ(copy_of(c3), "1/1/three/true");
  const auto v0 = tx.exec1(versions)[0].as<std::string>();
  const auto a0 = tx.exec1(audits)[0].as<int>();

  // one statement changing three metrics rows: all three copies
  tx.exec("UPDATE customer_metrics SET message_count = message_count + 10, last_message_preview = 'x' || message_count "
          "WHERE " + a);
  EXPECT_EQ(copy_of(c1), "1/11/x1/true");
  EXPECT_EQ(copy_of(c2), "2/12/x2/true");
  EXPECT_EQ(copy_of(c3), "1/11/x1/true");
  EXPECT_EQ(tx.exec1(list_drift)[0].as<int>(), 0);

  // a statement that changes none of the copied columns writes no customer version
  tx.exec("UPDATE customer_metrics SET customer_status = customer_status WHERE " + a);
  EXPECT_EQ(tx.exec1(versions)[0].as<std::string>(), v0);
  EXPECT_EQ(tx.exec1(audits)[0].as<int>(), a0);

  // c2's metrics row removed, c1's moved onto c2 and c3's changed in the same statement:
  // c2 gets c1's values, c1 (without a metrics row now) the values of no metrics row
  tx.exec("DELETE FROM customer_metrics WHERE " + a + " AND customer_id = '" + c2 + "'");
  EXPECT_EQ(copy_of(c2), "0/0/<null>/false");
  tx.exec("UPDATE customer_metrics SET customer_id = CASE customer_id WHEN '" + c1 + "' THEN '" + c2 +
          "'::uuid ELSE customer_id END, message_count = message_count + 1 WHERE " + a);
  EXPECT_EQ(copy_of(c2), "1/12/x1/true");
  EXPECT_EQ(copy_of(c1), "0/0/<null>/false");
  EXPECT_EQ(copy_of(c3), "1/12/x1/true");
  EXPECT_EQ(tx.exec1(list_drift)[0].as<int>(), 0);
  EXPECT_EQ(tx.exec1(versions)[0].as<std::string>(), v0);
  EXPECT_EQ(tx.exec1(audits)[0].as<int>(), a0);

  // and the rebuild puts everything back, copies included
  tx.exec("SELECT rebuild_customer_metrics('" + kCompanyA + "')");
  EXPECT_EQ(copy_of(c1), "1/1/one/true");
  EXPECT_EQ(copy_of(c2), "2/2/two b/true");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0].as<int>(), 0);
}


// Migration 0052: the copy triggers skip the rows of chat_metrics_add_rows's statement
// (which copies them itself) only while app.chat_metrics_copy_in_statement holds that
// statement's transaction id and start. A value the application sets ('on', or the
// token of one of its earlier statements) skips nothing: the metrics the row-by-row
// fallback writes in the application's chat inserts are still copied.
TEST_F(MetricsTest, TheInStatementCopyFlagSetByTheApplicationSkipsNoCopy) {
  {
    pqxx::connection c(app_url());
    pqxx::work tx(c);
    tx.exec("SELECT set_config('app.company_id', '" + kCompanyA + "', true)");
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
            "('f1', 'tech-a', 'f1@example.com', 'one'), ('f2', 'tech-a', 'f2@example.com', 'two')");
    // the set-based statement fails (test hook): its rows go row by row through metrics_add
    tx.exec("SELECT set_config('app.test_fail_metrics_batch', 'on', true), "
            "set_config('app.chat_metrics_copy_in_statement', 'on', true)");
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
            "('f1', 'tech-a', 'f1@example.com', 'one again'), ('f3', 'tech-a', 'f3@example.com', 'three')");
    tx.exec("SELECT set_config('app.chat_metrics_copy_in_statement', "
            "txid_current()::text || '/' || statement_timestamp()::text, true)");
    tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
            "('f2', 'tech-a', 'f2@example.com', 'two again'), ('f4', 'tech-a', 'f4@example.com', 'four')");
    tx.commit();
  }
  pqxx::connection owner(owner_url());
  pqxx::nontransaction tx(owner);
  const auto copy_of = [&](const std::string& email) {
    return tx.exec1("SELECT metric_conversation_count || '/' || metric_message_count || '/' || "
                    "coalesce(metric_last_message_preview, '<null>') FROM customers WHERE company_id = '" + kCompanyA +
                    "' AND email = '" + email + "'")[0].as<std::string>();
  };
  EXPECT_EQ(copy_of("f1@example.com"), "1/2/one again");
  EXPECT_EQ(copy_of("f2@example.com"), "1/2/two again");
  EXPECT_EQ(copy_of("f3@example.com"), "1/1/three");
  EXPECT_EQ(copy_of("f4@example.com"), "1/1/four");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "')")[0].as<int>(), 0);
}

// Migration 0052: chat_metrics_add_rows no longer tests before its statement that every
// customer has a metrics row; its upsert finds a customer without one and the whole
// statement is undone and sent row by row, as before. Row by row, metrics_add's insert
// counts the batch's first row as a conversation of its own (the set-based insert would
// have counted none: the session was not new), so the fallback is visible; and a batch
// whose customers all have a metrics row does not call metrics_add at all.
TEST_F(MetricsTest, ABatchForACustomerWithoutAMetricsRowStillGoesRowByRow) {
  pqxx::connection su(superuser_url());
  pqxx::work tx(su);
  tx.exec("SET LOCAL track_functions = 'pl'");
  const auto metrics_add_calls = [&] {
    return tx.exec1("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'metrics_add'")[0]
        .as<int>();
  };
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('g1', 'tech-a', 'g1@example.com', 'first'), ('g0', 'tech-a', 'g0@example.com', 'zero')");
  EXPECT_EQ(metrics_add_calls(), 0);
  const std::string g = tx.exec1("SELECT id::text FROM customers WHERE company_id = '" + kCompanyA +
                                 "' AND email = 'g1@example.com'")[0].as<std::string>();
  tx.exec("DELETE FROM customer_metrics WHERE company_id = '" + kCompanyA + "' AND customer_id = '" + g + "'");
  tx.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES "
          "('g1', 'tech-a', 'g1@example.com', 'second'), ('g1', 'tech-a', 'g1@example.com', 'third'), "
          "('g2', 'tech-a', 'g2@example.com', 'other')");
  EXPECT_EQ(metrics_add_calls(), 3);
  EXPECT_EQ(tx.exec1("SELECT conversation_count || '/' || message_count || '/' || last_message_preview || '/' || "
                     "customer_status FROM customer_metrics WHERE company_id = '" + kCompanyA +
                     "' AND customer_id = '" + g + "'")[0].as<std::string>(),
            "1/2/third/active");
  EXPECT_EQ(tx.exec1("SELECT metric_conversation_count || '/' || metric_message_count FROM customers "
                     "WHERE company_id = '" + kCompanyA + "' AND id = '" + g + "'")[0].as<std::string>(),
            "1/2");
  EXPECT_EQ(tx.exec1("SELECT message_count FROM customer_session_counts WHERE company_id = '" + kCompanyA +
                     "' AND customer_id = '" + g + "' AND session_key = 'g1'")[0].as<int>(), 3);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_events WHERE company_id = '" + kCompanyA +
                     "' AND event_type = 'conversation_linked' AND customer_id = '" + g + "'")[0].as<int>(), 1);
  // the other customer of the batch, counted once
  EXPECT_EQ(tx.exec1("SELECT m.conversation_count || '/' || m.message_count FROM customer_metrics m JOIN customers c "
                     "ON c.company_id = m.company_id AND c.id = m.customer_id WHERE c.company_id = '" + kCompanyA +
                     "' AND c.email = 'g2@example.com'")[0].as<std::string>(),
            "1/1");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM customer_metrics_drift('" + kCompanyA + "') WHERE kind = 'list'")[0].as<int>(), 0);
}

}  // namespace

// Migration 0039: the one-expression helpers of the metrics are inlined into the
// statements that call them (no per-statement parse and plan, no executor per row), and
// still give the same values.
TEST_F(MetricsTest, ConversationKeyAndMetricsIsLaterAreInlinedAndKeepTheirValues) {
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  std::string plan;
  for (const auto& r : tx.exec(
           "EXPLAIN (VERBOSE, COSTS OFF) SELECT conversation_key(s, i), metrics_is_later(t, i, t2, i2) "
           "FROM (VALUES ('a'::text, 1::bigint, now(), NULL::timestamptz, 2::bigint)) v (s, i, t, t2, i2)")) {
    plan += r[0].as<std::string>() + "\n";
  }
  EXPECT_EQ(plan.find("conversation_key("), std::string::npos) << plan;
  EXPECT_EQ(plan.find("metrics_is_later("), std::string::npos) << plan;
  const auto row = tx.exec1(
      "SELECT conversation_key(NULL, 5), conversation_key('', 7), conversation_key('s-1', 7), "
      "metrics_is_later(NULL, 3, NULL, 2), metrics_is_later(NULL, 3, now(), 2), "
      "metrics_is_later(now(), 1, NULL, 2), metrics_is_later('2026-01-01', 1, '2026-01-01', 2), "
      "metrics_is_later('2026-01-02', 1, '2026-01-01', 2), metrics_is_later(NULL, 1, NULL, NULL)");
  EXPECT_EQ(row[0].as<std::string>(), "row:5");
  EXPECT_EQ(row[1].as<std::string>(), "row:7");
  EXPECT_EQ(row[2].as<std::string>(), "s-1");
  EXPECT_TRUE(row[3].as<bool>());
  EXPECT_FALSE(row[4].as<bool>());
  EXPECT_TRUE(row[5].as<bool>());
  EXPECT_FALSE(row[6].as<bool>());
  EXPECT_TRUE(row[7].as<bool>());
  EXPECT_TRUE(row[8].as<bool>());
}
