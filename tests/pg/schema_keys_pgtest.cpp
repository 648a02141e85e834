// customers shape, normalizers and trg_customers_matching_keys_sync (migrations
// 0002/0005): matching keys follow email/phone/name changes and soft delete;
// version/updated_at/deleted_at maintenance; timeline events.
// docs/database.md, "Normalizers and matching keys", "Triggers".
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

const std::string kCompany = "aaaaaaaa-0000-4000-8000-00000000000a";

class CustomerKeysTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('" + kCompany + "', 'a', 'A')");
    w.commit();
  }

  // Runs statements as the application in kCompany (one transaction); returns the
  // first column of the last statement's first row ("" when none or NULL).
  std::string app(const std::vector<std::string>& sql, const std::string& user = "agent-7") {
    pqxx::connection c(app_url());
    pqxx::work w(c);
    w.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', $2, true)", kCompany, user);
    pqxx::result r;
    for (const auto& s : sql) r = w.exec(s);
    w.commit();
    return r.empty() || r[0].empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }

  std::set<std::string> keys(const std::string& customer) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    std::set<std::string> out;
    for (const auto& row : tx.exec("SELECT key_type || '=' || key_value FROM customer_matching_keys WHERE customer_id = '" +
                                   customer + "'")) {
      out.insert(row[0].as<std::string>());
    }
    return out;
  }

  std::string owner_scalar(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }
};

TEST_F(CustomerKeysTest, MatchingKeysFollowEmailPhoneAndNameChangesAndSoftDelete) {
  const std::string id = app({"INSERT INTO customers (company_id, name, email, phone) VALUES ('" + kCompany +
                              "', 'José  Núñez', ' Jose@Example.COM ', '(555) 222-3333') RETURNING id"});
  using Keys = std::set<std::string>;
  EXPECT_EQ(keys(id), (Keys{"email=jose@example.com", "phone=+15552223333", "name=jose nunez"}));

  const std::string where = " WHERE id = '" + id + "'";
  app({"UPDATE customers SET email = 'new@example.com'" + where});
  EXPECT_EQ(keys(id), (Keys{"email=new@example.com", "phone=+15552223333", "name=jose nunez"}));

  app({"UPDATE customers SET phone = '+1 555 222 3333', name = 'Nunez, Jose'" + where});  // same keys
  EXPECT_EQ(keys(id), (Keys{"email=new@example.com", "phone=+15552223333", "name=jose nunez"}));

  app({"UPDATE customers SET phone = NULL, email = 'not an email'" + where});
  EXPECT_EQ(keys(id), (Keys{"name=jose nunez"}));

  app({"UPDATE customers SET phone = '020 7946 0958', email = 'jose@example.com'" + where});
  EXPECT_EQ(keys(id), (Keys{"email=jose@example.com", "phone=+12079460958", "name=jose nunez"}));

  // the company's calling code changes: its phone keys are recomputed
  owner_scalar("UPDATE companies SET default_country_code = '44' WHERE id = '" + kCompany + "'");
  EXPECT_EQ(keys(id), (Keys{"email=jose@example.com", "phone=+442079460958", "name=jose nunez"}));

  app({"UPDATE customers SET status = 'deleted'" + where});
  EXPECT_EQ(keys(id), Keys{}) << "a soft-deleted customer has no keys";
  app({"UPDATE customers SET status = 'active'" + where});
  EXPECT_EQ(keys(id), (Keys{"email=jose@example.com", "phone=+442079460958", "name=jose nunez"}));

  const std::string other = app({"INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'Target') RETURNING id"});
  app({"UPDATE customers SET status = 'merged', merged_into_customer_id = '" + other + "'" + where});
  EXPECT_EQ(keys(id).size(), 3U) << "a merged customer keeps its keys (they resolve to the target)";
}

TEST_F(CustomerKeysTest, NormalizersFollowTheDocumentedRules) {
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  auto one = [&](const std::string& sql, const std::string& arg) {
    auto r = tx.exec_params(sql, arg);
    return r[0][0].is_null() ? std::string("<null>") : r[0][0].as<std::string>();
  };
  const std::vector<std::pair<std::string, std::string>> emails = {
      {" John@Example.COM ", "john@example.com"}, {"\u00a0john@example.com\t", "john@example.com"},
      {"ÉLODIE@Exemple.FR", "élodie@exemple.fr"}, {"n/a", "<null>"}, {"a@b", "<null>"}, {"john @x.com", "<null>"},
      {"", "<null>"}};
  for (const auto& [in, out] : emails) EXPECT_EQ(one("SELECT normalize_email($1)", in), out) << "email '" << in << "'";

  const std::vector<std::tuple<std::string, std::string, std::string>> phones = {
      {"(555) 123-4567", "1", "+15551234567"},       {"1-555-123-4567", "1", "+15551234567"},
      {"+1 555 123 4567 ext. 89", "44", "+15551234567"}, {"001 555 123 4567", "1", "+15551234567"},
      {"020 7946 0958", "44", "+442079460958"},      {"+44 (0)20 7946 0958", "1", "+442079460958"},
      {"0044 20 7946 0958", "1", "+442079460958"},   {"06 1234 5678", "39", "+390612345678"},
      {"tel:+15551234567", "1", "+15551234567"},     {"12345", "1", "<null>"},
      {"+0123456789", "1", "<null>"},                {"1234567890123456789", "1", "<null>"},
      {"5551234567", "", "<null>"}};
  for (const auto& [in, cc, out] : phones) {
    auto r = tx.exec_params("SELECT normalize_phone($1, $2)", in, cc);
    EXPECT_EQ(r[0][0].is_null() ? std::string("<null>") : r[0][0].as<std::string>(), out) << "phone '" << in << "' code " << cc;
  }

  const std::vector<std::pair<std::string, std::string>> names = {
      {"  John   SMITH ", "john smith"}, {"Smith, John", "john smith"}, {"José Núñez-García", "garcia jose nunez"},
      {"O'Brien", "obrien"},           {"O’Brien Séan", "obrien sean"}, {"Straße", "strasse"},
      {"Д. Иванов", "д иванов"},       {"   ", "<null>"},              {"John John", "john"}};
  for (const auto& [in, out] : names) EXPECT_EQ(one("SELECT normalize_name($1)", in), out) << "name '" << in << "'";
}

TEST_F(CustomerKeysTest, VersionTimestampsAndSoftDeleteAreMaintainedByTheDatabase) {
  const std::string id = app({"INSERT INTO customers (company_id, name) VALUES ('" + kCompany + "', 'Vera') RETURNING id"});
  const std::string where = " WHERE id = '" + id + "'";
  EXPECT_EQ(owner_scalar("SELECT version || '/' || created_by || '/' || source || '/' || lifecycle_stage FROM customers" + where),
            "1/agent-7/manual/prospect");
  // optimistic concurrency: the first writer with version 1 wins, the second matches nothing
  EXPECT_EQ(app({"UPDATE customers SET notes = 'first' WHERE id = '" + id + "' AND version = 1 RETURNING version"}, "agent-8"), "2");
  EXPECT_EQ(app({"UPDATE customers SET notes = 'second' WHERE id = '" + id + "' AND version = 1 RETURNING version"}), "");
  EXPECT_EQ(owner_scalar("SELECT notes || '/' || updated_by || '/' || (updated_at >= created_at) FROM customers" + where),
            "first/agent-8/true");
  app({"UPDATE customers SET name = 'Vera' " + where});  // even a no-op update bumps the version
  EXPECT_EQ(owner_scalar("SELECT version FROM customers" + where), "3");

  app({"UPDATE customers SET status = 'deleted'" + where});
  EXPECT_EQ(owner_scalar("SELECT (deleted_at IS NOT NULL)::text FROM customers" + where), "true");
  app({"UPDATE customers SET status = 'active'" + where});
  EXPECT_EQ(owner_scalar("SELECT (deleted_at IS NULL)::text FROM customers" + where), "true");

  // no hard delete for the application; no tenant move for anyone
  EXPECT_THROW(app({"DELETE FROM customers" + where}), pqxx::sql_error);
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('bbbbbbbb-0000-4000-8000-00000000000b', 'b', 'B')");
    EXPECT_THROW(w.exec("UPDATE customers SET company_id = 'bbbbbbbb-0000-4000-8000-00000000000b'" + where), pqxx::sql_error);
  }
  EXPECT_EQ(owner_scalar("SELECT company_id FROM customers" + where), kCompany);
  // the external id is unique per company
  app({"UPDATE customers SET external_id = 'crm-1'" + where});
  EXPECT_THROW(app({"INSERT INTO customers (company_id, name, external_id) VALUES ('" + kCompany + "', 'Dup', 'crm-1')"}),
               pqxx::sql_error);
}

TEST_F(CustomerKeysTest, CustomerChangesWriteTypedTimelineEvents) {
  const std::string id = app({"INSERT INTO customers (company_id, name, email, tags) VALUES ('" + kCompany +
                              "', 'Tim', 'tim@example.com', '{a,b}') RETURNING id"});
  const std::string where = " WHERE id = '" + id + "'";
  app({"UPDATE customers SET email = 'timothy@example.com'" + where});
  app({"UPDATE customers SET lifecycle_stage = 'customer'" + where});
  app({"UPDATE customers SET tags = '{b,c}'" + where});
  app({"UPDATE customers SET notes = 'likes tea'" + where});
  app({"UPDATE customers SET status = 'deleted'" + where});
  app({"UPDATE customers SET status = 'active'" + where});
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  std::vector<std::string> got;
  for (const auto& row : tx.exec("SELECT event_type || ' ' || payload::text || ' ' || coalesce(actor, '-') "
                                 "FROM customer_events WHERE customer_id = '" + id + "' ORDER BY id")) {
    got.push_back(row[0].as<std::string>());
  }
  const std::vector<std::string> want = {
      "created {\"name\": \"Tim\", \"email\": \"tim@example.com\", \"phone\": null, \"source\": \"manual\", "
      "\"status\": \"active\", \"lifecycle_stage\": \"prospect\"} agent-7",
      "contact_changed {\"changes\": {\"email\": {\"to\": \"timothy@example.com\", \"from\": \"tim@example.com\"}}} agent-7",
      "stage_changed {\"to\": \"customer\", \"from\": \"prospect\"} agent-7",
      "tags_added {\"tags\": [\"c\"]} agent-7",
      "tags_removed {\"tags\": [\"a\"]} agent-7",
      "updated {\"fields\": [\"notes\"]} agent-7",
      "deleted {} agent-7",
      "restored {} agent-7"};
  EXPECT_EQ(got, want);
}

}  // namespace
