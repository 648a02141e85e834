// Migration 0011: the statement-level INSERT trigger on customers writes, for every
// row of a multi-row (and multi-company) statement, exactly what the row-level
// triggers wrote (audit row, matching keys, 'created' event, metrics row) plus the
// customer_search row; the search row follows updates, soft delete and restore.
// docs/database.md, "Triggers" and "Search".
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

const std::string kCompanyA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kCompanyB = "bbbbbbbb-0000-4000-8000-00000000000b";

class CustomerWritesTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name, default_country_code) VALUES ('" + kCompanyA +
           "', 'a', 'A', '1'), ('" + kCompanyB + "', 'b', 'B', '44')");
    w.commit();
  }

  long owner_count(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<long>();
  }

  // One statement as the application in kCompanyA, committed; returns the first column.
  std::string app(const std::string& sql, const std::string& company = kCompanyA) {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'u-1', true), "
                  "set_config('app.correlation_id', 'corr-1', true)",
                  company);
    auto r = w.exec(sql);
    w.commit();
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }
};

TEST_F(CustomerWritesTest, AMultiRowMultiCompanyInsertWritesEveryDerivedRowInTheRowsCompany) {
  {
    // the owner (maintenance) may write two tenants in one statement
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO customers (company_id, name, email, phone) VALUES "
           "('" + kCompanyA + "', 'Ann Lee', ' Ann@Example.com ', '(555) 123-4567'), "
           "('" + kCompanyA + "', 'Bob Roe', NULL, NULL), "
           "('" + kCompanyB + "', 'Cy Dee', 'cy@example.co.uk', '020 7946 0018')");
    w.commit();
  }
  for (const auto& co : {kCompanyA, kCompanyB}) {
    SCOPED_TRACE(co);
    const long customers = co == kCompanyA ? 2 : 1;
    const std::string where = " WHERE company_id = '" + co + "'";
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log" + where +
                          " AND operation = 'INSERT' AND table_name = 'customers' AND after IS NOT NULL"),
              customers);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events" + where + " AND event_type = 'created'"), customers);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_metrics" + where + " AND customer_status = 'active'"),
              customers);
    EXPECT_EQ(owner_count("SELECT count(*) FROM customer_search" + where), customers);
  }
  // keys: normalized with each row's company calling code
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys WHERE company_id = '" + kCompanyA +
                        "' AND key_type = 'phone' AND key_value = '+15551234567'"),
            1);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys WHERE company_id = '" + kCompanyB +
                        "' AND key_type = 'phone' AND key_value = '+442079460018'"),
            1);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys WHERE company_id = '" + kCompanyA +
                        "' AND key_type = 'email' AND key_value = 'ann@example.com'"),
            1);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys WHERE company_id = '" + kCompanyA +
                        "' AND key_type = 'name' AND key_value IN ('ann lee', 'bob roe')"),
            2);
  // nothing crossed tenants
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_matching_keys k JOIN customers c ON c.id = k.customer_id "
                        " WHERE c.company_id <> k.company_id"),
            0);
}

TEST_F(CustomerWritesTest, TheApplicationsInsertCarriesActorAndCorrelationIntoAuditAndEvents) {
  const std::string id = app("INSERT INTO customers (company_id, name) VALUES ('" + kCompanyA +
                             "', 'Dee'), ('" + kCompanyA + "', 'Eve') RETURNING id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log WHERE actor = 'u-1' AND correlation_id = 'corr-1'"),
            2);
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_events WHERE event_type = 'created' AND actor = 'u-1' "
                        " AND correlation_id = 'corr-1'"),
            2);
  // the audit image is the stored row (stamped version 1)
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_audit_log a JOIN customers c ON c.id = a.customer_id "
                        " WHERE a.after = to_jsonb(c) AND c.version = 1"),
            2);
}

TEST_F(CustomerWritesTest, TheSearchRowFollowsEditsSoftDeleteAndRestore) {
  const std::string id = app("INSERT INTO customers (company_id, name, email, phone) VALUES ('" + kCompanyA +
                             "', 'Fay Gold', 'fay@gold.example', '+1 555 000 1111') RETURNING id");
  auto hits = [&](const std::string& q) {
    return app("SELECT count(*) FROM search_customer_hits('" + q + "', '" + q + "', NULL, 10) h WHERE h.customer_id = '" +
               id + "'");
  };
  EXPECT_EQ(hits("Fay Gold"), "1");
  EXPECT_EQ(hits("Fay Gld"), "1") << "typo";
  EXPECT_EQ(hits("gold.exa"), "1") << "email fragment";
  EXPECT_EQ(app("SELECT count(*) FROM search_customer_hits('0001111', '0001111', '0001111', 10)"), "1")
      << "phone fragment";
  app("UPDATE customers SET name = 'Fay Silver', email = 'fay@silver.example' WHERE id = '" + id + "'");
  EXPECT_EQ(hits("Fay Gold"), "0");
  EXPECT_EQ(hits("Fay Silver"), "1");
  app("UPDATE customers SET status = 'deleted' WHERE id = '" + id + "'");
  EXPECT_EQ(hits("Fay Silver"), "0") << "soft-deleted customers are not searchable";
  EXPECT_EQ(owner_count("SELECT count(*) FROM customer_search"), 0);
  app("UPDATE customers SET status = 'active' WHERE id = '" + id + "'");
  EXPECT_EQ(hits("Fay Silver"), "1") << "restored";
  // a lifecycle-only update does not touch the search row (trigger WHEN clause)
  const long before = owner_count("SELECT xmin::text::bigint FROM customer_search");
  app("UPDATE customers SET lifecycle_stage = 'customer' WHERE id = '" + id + "'");
  EXPECT_EQ(owner_count("SELECT xmin::text::bigint FROM customer_search"), before);
}

// Migration 0014's prefix fast path returns exactly what scoring every candidate
// returns: compared with a direct evaluation of the ranking over all rows.
TEST_F(CustomerWritesTest, SearchFastPathRanksExactlyLikeScoringEveryCandidate) {
  std::string values;
  const char* first[] = {"Michael", "Michelle", "Mich", "Mitchell", "Mihcael", "Jo", "Joanna", "Johnny", "Amich"};
  for (int i = 0; i < 90; ++i) {
    if (!values.empty()) values += ", ";
    const std::string n = std::to_string(i);
    values += "('" + kCompanyA + "', '" + first[i % 9] + " Smith" + n + "', '" + (i % 4 == 0 ? "mich" : "x") + n +
              "@example.com', '+1 555 010 " + std::to_string(1000 + i) + "')";
  }
  app("INSERT INTO customers (company_id, name, email, phone) VALUES " + values);
  // the oracle: the 0011/0014 ranking evaluated over every customer, no candidate sets
  auto oracle = [&](const std::string& q, const std::string& digits, int limit) {
    const std::string d = digits.empty() ? "NULL::text" : "'" + digits + "'::text";
    return app("SELECT string_agg(customer_id::text || ':' || round(score::numeric, 4), ',' ORDER BY rn) FROM ("
               " SELECT s.customer_id, x.score, row_number() OVER (ORDER BY x.score DESC, lower(s.name) ASC NULLS LAST,"
               "        s.customer_id) AS rn"
               "   FROM customers s0 JOIN LATERAL (SELECT s0.id AS customer_id, s0.name, lower(s0.email) AS email_lc,"
               "        phone_digits(s0.phone) AS phone_digits) s ON true,"
               "   LATERAL (SELECT greatest("
               "     CASE WHEN lower(s.name) = lower('" + q + "') OR s.email_lc = lower('" + q + "') OR (" + d +
               "          IS NOT NULL AND s.phone_digits = " + d + ") THEN 1.0 ELSE 0 END,"
               "     CASE WHEN lower(s.name) LIKE lower('" + q + "') || '%' OR s.email_lc LIKE lower('" + q +
               "') || '%' THEN 0.9 ELSE 0 END,"
               "     CASE WHEN s.name ILIKE '%" + q + "%' OR s.email_lc LIKE '%' || lower('" + q + "') || '%' OR (" + d +
               "          IS NOT NULL AND s.phone_digits LIKE '%' || " + d + " || '%') THEN 0.7 ELSE 0 END,"
               "     0.8 * coalesce(similarity(s.name, '" + q + "'), 0), 0.8 * coalesce(word_similarity('" + q +
               "', s.name), 0), 0.6 * coalesce(similarity(s.email_lc, lower('" + q + "')), 0))::float8 AS score) x"
               "  WHERE s.name % '" + q + "' OR '" + q + "' <% s.name OR s.name ILIKE '%" + q + "%'"
               "     OR s.email_lc LIKE '%' || lower('" + q + "') || '%' OR s.email_lc % lower('" + q + "')"
               "     OR (" + d + " IS NOT NULL AND s.phone_digits LIKE '%' || " + d + " || '%')) r WHERE rn <= " +
               std::to_string(limit));
  };
  auto actual = [&](const std::string& q, const std::string& digits, int limit) {
    const std::string d = digits.empty() ? "NULL" : "'" + digits + "'";
    return app("SELECT string_agg(customer_id::text || ':' || round(score::numeric, 4), ',') FROM search_customer_hits('" +
               q + "', '" + q + "', " + d + ", " + std::to_string(limit) + ")");
  };
  struct Case {
    std::string q, digits;
    int limit;
  };
  for (const Case& c : {Case{"Mich", "", 20}, Case{"Mich", "", 200}, Case{"mich", "", 5}, Case{"Michael Smith1", "", 3},
                        Case{"Mihcael", "", 10}, Case{"Jo", "", 7}, Case{"0101003", "0101003", 5},
                        Case{"15550101010", "15550101010", 4}}) {
    SCOPED_TRACE(c.q + " limit " + std::to_string(c.limit));
    const std::string expected = oracle(c.q, c.digits, c.limit);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(actual(c.q, c.digits, c.limit), expected);
  }
}

}  // namespace

// Migration 0037: no index covers updated_at any more, so an update that changes no
// indexed column is a heap-only-tuple update (no index entry written), stamps and
// triggers included. Migration 0049: no index holds the stage any more
// (customers_active_stage_idx replaced by customer_stage_counts), so a stage change is
// HOT too; a name change is not (customers_list_name_idx).
TEST_F(CustomerWritesTest, AnUpdateOfUnindexedColumnsOrOfTheStageIsHot) {
  app("INSERT INTO customers (company_id, name, email, phone) VALUES ('" + kCompanyA +
      "', 'Hot Person', 'hot@example.com', '(555) 123-0000')");
  EXPECT_EQ(owner_count("SELECT count(*) FROM pg_indexes WHERE tablename = 'customers' AND indexdef LIKE '%updated_at%'"),
            0);
  EXPECT_EQ(owner_count("SELECT count(*) FROM pg_class WHERE relname = 'customers' "
                        "AND 'fillfactor=90' = ANY (reloptions)"),
            1);
  pqxx::connection c(app_url());
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'u-1', true)", kCompanyA);
  const auto hot = [&] {
    return w.exec("SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers'")[0][0].as<long>();
  };
  const auto updated = [&] {
    return w.exec("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers'")[0][0].as<long>();
  };
  w.exec("UPDATE customers SET notes = 'called back', email = 'hot2@example.com', attributes = '{\"k\": 1}' "
         "WHERE name = 'Hot Person'");
  EXPECT_EQ(updated(), 1);
  EXPECT_EQ(hot(), 1) << "notes, email, attributes and the stamp's updated_at/version: no index entry";
  w.exec("UPDATE customers SET lifecycle_stage = 'lead' WHERE name = 'Hot Person'");
  EXPECT_EQ(updated(), 2);
  EXPECT_EQ(hot(), 2) << "no index holds the stage (0049)";
  w.exec("UPDATE customers SET name = 'Hot Person' || '' WHERE name = 'Hot Person'");
  EXPECT_EQ(updated(), 3);
  EXPECT_EQ(hot(), 3) << "the same name: no index entry changes";
  w.exec("UPDATE customers SET name = 'Warm Person' WHERE name = 'Hot Person'");
  EXPECT_EQ(updated(), 4);
  EXPECT_EQ(hot(), 3) << "the name is indexed (customers_list_name_idx)";
  EXPECT_EQ(w.exec("SELECT count(*) FROM customers WHERE email = 'hot2@example.com' AND lifecycle_stage = 'lead' "
                   "AND name = 'Warm Person' AND updated_at > created_at AND version >= 5")[0][0]
                .as<long>(),
            1);
  w.commit();
}
