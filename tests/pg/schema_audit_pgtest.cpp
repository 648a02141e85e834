// customer_audit_log (migration 0008): one row per committed mutation, none for
// rolled-back ones, append-only for every role. docs/database.md, "Audit log".
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

const std::string kCompany = "aaaaaaaa-0000-4000-8000-00000000000a";

// libpqxx 6.4 often leaves sql_error::sqlstate() empty; its exception type tells.
std::string sqlstate_of(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) return "42501";
  return std::string("?") + e.what();
}

class AuditLogTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('" + kCompany + "', 'a', 'A')");
    w.commit();
  }

  static void context(pqxx::transaction_base& tx, const std::string& user, const std::string& correlation) {
    tx.exec_params(
        "SELECT set_config('app.company_id', $1, true), set_config('app.user_id', $2, true), "
        "set_config('app.correlation_id', $3, true)",
        kCompany, user, correlation);
  }

  pqxx::result owner_query(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
  }
  long long audit_rows() { return owner_query("SELECT count(*) FROM customer_audit_log")[0][0].as<long long>(); }
};

TEST_F(AuditLogTest, OneRowPerCommittedMutationWithActorAndCorrelationIdAndNoneForRolledBackOnes) {
  pqxx::connection c(app_url());
  std::string id;
  {
    pqxx::work w(c);
    context(w, "agent-1", "corr-1");
    id = w.exec("INSERT INTO customers (company_id, name, email) VALUES ('" + kCompany +
                "', 'Audrey', 'audrey@example.com') RETURNING id")[0][0]
             .as<std::string>();
    w.commit();
  }
  {
    pqxx::work w(c);
    context(w, "agent-2", "corr-2");
    w.exec("UPDATE customers SET name = 'Audrey Hepburn' WHERE id = '" + id + "'");
    w.exec("UPDATE customers SET tags = '{vip}' WHERE id = '" + id + "'");
    w.commit();
  }
  {
    pqxx::work w(c);  // rolled back: no trace
    context(w, "agent-3", "corr-3");
    w.exec("UPDATE customers SET notes = 'never committed' WHERE id = '" + id + "'");
    w.exec("INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'Ghost')");
    w.abort();
  }
  {
    pqxx::work w(c);
    context(w, "agent-4", "corr-4");
    w.exec("UPDATE customers SET status = 'deleted' WHERE id = '" + id + "'");  // soft delete
    w.commit();
  }
  {
    pqxx::connection oc(owner_url());  // a hard delete (owner only) is audited too
    pqxx::work w(oc);
    w.exec_params("SELECT set_config('app.user_id', 'dba', true)");
    w.exec("DELETE FROM customers WHERE id = '" + id + "'");
    w.commit();
  }
  auto r = owner_query(
      "SELECT operation, actor, correlation_id, record_id, customer_id, before->>'name', after->>'name', "
      "       array_to_string(changed_fields, ','), table_name "
      "  FROM customer_audit_log ORDER BY id");
  ASSERT_EQ(r.size(), 5U) << "insert, two updates, soft delete, hard delete";
  const char* ops[] = {"INSERT", "UPDATE", "UPDATE", "UPDATE", "DELETE"};
  const char* actors[] = {"agent-1", "agent-2", "agent-2", "agent-4", "dba"};
  for (std::size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i][0].as<std::string>(), ops[i]);
    EXPECT_EQ(r[i][1].as<std::string>(), actors[i]);
    EXPECT_EQ(r[i][3].as<std::string>(), id);
    EXPECT_EQ(r[i][4].as<std::string>(), id);
    EXPECT_EQ(r[i][8].as<std::string>(), "customers");
  }
  EXPECT_EQ(r[0][2].as<std::string>(), "corr-1");
  EXPECT_TRUE(r[0][5].is_null()) << "no before for an insert";
  EXPECT_EQ(r[1][5].as<std::string>(), "Audrey");
  EXPECT_EQ(r[1][6].as<std::string>(), "Audrey Hepburn");
  EXPECT_NE(r[1][7].as<std::string>().find("name"), std::string::npos);
  EXPECT_NE(r[1][7].as<std::string>().find("version"), std::string::npos);
  EXPECT_TRUE(r[4][6].is_null()) << "no after for a delete";
  EXPECT_EQ(owner_query("SELECT count(*) FROM customer_audit_log WHERE actor = 'agent-3'")[0][0].as<int>(), 0);
}

// One UPDATE of several customers (a bulk stage change): the statement-level
// triggers of 0032 write one audit row per updated customer, with what a single
// row's update writes (before, after, changed fields, actor), and one stage_changed
// event per customer whose stage changed.
TEST_F(AuditLogTest, ABulkUpdateAuditsEveryRowAndWritesOneStageEventPerChangedStage) {
  pqxx::connection c(app_url());
  {
    pqxx::work w(c);
    context(w, "agent-1", "corr-1");
    w.exec("INSERT INTO customers (company_id, name, lifecycle_stage) VALUES ('" + kCompany + "', 'Ann', 'lead'), ('" +
           kCompany + "', 'Bob', 'lead'), ('" + kCompany + "', 'Cy', 'customer')");
    w.commit();
  }
  {
    pqxx::work w(c);
    context(w, "agent-2", "corr-bulk");
    EXPECT_EQ(w.exec("UPDATE customers SET lifecycle_stage = 'customer' WHERE company_id = '" + kCompany + "'")
                  .affected_rows(),
              3U);
    w.commit();
  }
  auto audit = owner_query(
      "SELECT c.name, a.before->>'lifecycle_stage', a.after->>'lifecycle_stage', array_to_string(a.changed_fields, ','), "
      "       a.actor, a.correlation_id, a.record_id = c.id::text "
      "  FROM customer_audit_log a JOIN customers c ON c.id = a.customer_id "
      " WHERE a.operation = 'UPDATE' ORDER BY c.name");
  ASSERT_EQ(audit.size(), 3U);
  const char* before[] = {"lead", "lead", "customer"};
  for (std::size_t i = 0; i < audit.size(); ++i) {
    SCOPED_TRACE(audit[i][0].as<std::string>());
    EXPECT_EQ(audit[i][1].as<std::string>(), before[i]);
    EXPECT_EQ(audit[i][2].as<std::string>(), "customer");
    EXPECT_EQ(audit[i][4].as<std::string>(), "agent-2");
    EXPECT_EQ(audit[i][5].as<std::string>(), "corr-bulk");
    EXPECT_TRUE(audit[i][6].as<bool>());
  }
  EXPECT_EQ(audit[0][3].as<std::string>(), "lifecycle_stage,updated_at,updated_by,version");
  EXPECT_EQ(audit[2][3].as<std::string>(), "updated_at,updated_by,version") << "Cy's stage did not change";
  auto events = owner_query(
      "SELECT c.name, e.payload->>'from', e.payload->>'to' FROM customer_events e JOIN customers c ON c.id = e.customer_id "
      " WHERE e.event_type = 'stage_changed' ORDER BY c.name");
  ASSERT_EQ(events.size(), 2U) << "Ann and Bob; not Cy";
  EXPECT_EQ(events[0][0].as<std::string>(), "Ann");
  EXPECT_EQ(events[0][1].as<std::string>(), "lead");
  EXPECT_EQ(events[0][2].as<std::string>(), "customer");

}

TEST_F(AuditLogTest, TheApplicationCanNeitherRewriteNorForgeTheAuditLog) {
  {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    context(w, "agent", "corr");
    w.exec("INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'Ann')");
    w.commit();
  }
  const long long before = audit_rows();
  ASSERT_EQ(before, 1);
  const std::string fingerprint =
      owner_query("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM customer_audit_log t")[0][0].as<std::string>();
  const std::vector<std::string> attempts = {
      "UPDATE customer_audit_log SET actor = 'someone else'", "DELETE FROM customer_audit_log",
      "TRUNCATE customer_audit_log",
      "INSERT INTO customer_audit_log (company_id, table_name, operation, record_id) VALUES ('" + kCompany +
          "', 'customers', 'INSERT', 'forged')"};
  for (const auto& sql : attempts) {
    SCOPED_TRACE(sql);
    pqxx::connection c(app_url());
    pqxx::work w(c);
    context(w, "agent", "corr");
    try {
      w.exec(sql);
      w.commit();
      ADD_FAILURE() << "the application role was allowed to run it";
    } catch (const pqxx::sql_error& e) {
      EXPECT_EQ(sqlstate_of(e), "42501") << e.what();
    }
  }
  EXPECT_EQ(audit_rows(), before);
  EXPECT_EQ(owner_query("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM customer_audit_log t")[0][0].as<std::string>(),
            fingerprint);
}

TEST_F(AuditLogTest, EvenTheOwnerCannotUpdateDeleteOrTruncateItCasually) {
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'Ann')");
    w.commit();
  }
  for (const char* sql : {"UPDATE customer_audit_log SET actor = 'x'", "DELETE FROM customer_audit_log",
                          "TRUNCATE customer_audit_log"}) {
    SCOPED_TRACE(sql);
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    try {
      w.exec(sql);
      w.commit();
      ADD_FAILURE() << "the owner was allowed to run it";
    } catch (const pqxx::sql_error& e) {
      EXPECT_NE(std::string(e.what()).find("append-only"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(audit_rows(), 1);
}

TEST_F(AuditLogTest, MergeLogAndDismissalsAreAuditedToo) {
  pqxx::connection c(app_url());
  pqxx::work w(c);
  context(w, "merger", "corr-m");
  auto a = w.exec("INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'A') RETURNING id")[0][0].as<std::string>();
  auto b = w.exec("INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'B') RETURNING id")[0][0].as<std::string>();
  w.exec("INSERT INTO customer_merge_log (company_id, source_customer_id, target_customer_id, source_snapshot, "
         "target_snapshot) VALUES ('" + kCompany + "', '" + a + "', '" + b + "', '{}', '{}')");
  w.exec("UPDATE customer_merge_log SET undone_at = now(), undone_by = 'merger'");
  w.exec("INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b) VALUES ('" + kCompany + "', least('" + a +
         "'::uuid, '" + b + "'::uuid), greatest('" + a + "'::uuid, '" + b + "'::uuid))");
  w.exec("DELETE FROM duplicate_dismissals");
  w.commit();
  auto r = owner_query(
      "SELECT table_name || ':' || operation FROM customer_audit_log WHERE table_name <> 'customers' ORDER BY id");
  ASSERT_EQ(r.size(), 4U);
  EXPECT_EQ(r[0][0].as<std::string>(), "customer_merge_log:INSERT");
  EXPECT_EQ(r[1][0].as<std::string>(), "customer_merge_log:UPDATE");
  EXPECT_EQ(r[2][0].as<std::string>(), "duplicate_dismissals:INSERT");
  EXPECT_EQ(r[3][0].as<std::string>(), "duplicate_dismissals:DELETE");
}

}  // namespace
