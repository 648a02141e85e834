// Tenant isolation and catalog lint (migration 0009). docs/database.md,
// "Tenant isolation" and "Privileges of tradesphere_app".
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/pg_fixture.hpp"

namespace {

const std::string kCompanyA = "aaaaaaaa-0000-4000-8000-00000000000a";
const std::string kCompanyB = "bbbbbbbb-0000-4000-8000-00000000000b";

// libpqxx 6.4 often leaves sql_error::sqlstate() empty; its exception type tells.
std::string sqlstate_of(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) return "42501";
  return std::string("?") + e.what();
}

// Every tenant table, what the application may do in its own tenant, and a
// statement template per operation ({co} company, {c1} {c2} {c3} customers,
// {lo} {hi} = c1/c3 in uuid order, {vc} a chat row id of that company).
struct TableSpec {
  std::string name;
  std::set<std::string> granted;  // of SELECT, INSERT, UPDATE, DELETE
  std::string insert_sql;
  std::string update_sql;
};

const std::vector<TableSpec>& tenant_tables() {
  static const std::vector<TableSpec> specs = {
      {"app_users", {"SELECT"},
       "INSERT INTO app_users (tech_id, company_id, role) VALUES ('rls-' || gen_random_uuid(), '{co}', 'agent')",
       "UPDATE app_users SET role = role WHERE company_id = '{co}'"},
      {"customers", {"SELECT", "INSERT", "UPDATE"},
       "INSERT INTO customers (company_id, name) VALUES ('{co}', 'rls probe')",
       "UPDATE customers SET name = name WHERE company_id = '{co}'"},
      {"\"VC Usage\"", {"SELECT", "INSERT", "UPDATE"},
       "INSERT INTO \"VC Usage\" (company_id, session_id, user_message) VALUES ('{co}', 'rls', 'probe')",
       "UPDATE \"VC Usage\" SET customer_id = customer_id WHERE company_id = '{co}'"},
      {"customer_matching_keys", {"SELECT"},
       "INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id) "
       "VALUES ('{co}', 'email', 'rls@probe.example', '{c1}')",
       "UPDATE customer_matching_keys SET key_value = key_value WHERE company_id = '{co}'"},
      {"customer_events", {"SELECT", "INSERT", "UPDATE"},
       "INSERT INTO customer_events (company_id, customer_id, event_type) VALUES ('{co}', '{c1}', 'note')",
       "UPDATE customer_events SET customer_id = customer_id WHERE company_id = '{co}'"},
      {"customer_merge_log", {"SELECT", "INSERT", "UPDATE"},
       "INSERT INTO customer_merge_log (company_id, source_customer_id, target_customer_id, source_snapshot, "
       "target_snapshot) VALUES ('{co}', '{c1}', '{c3}', '{}', '{}')",
       "UPDATE customer_merge_log SET undone_by = undone_by WHERE company_id = '{co}'"},
      {"duplicate_dismissals", {"SELECT", "INSERT", "DELETE"},
       "INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b) VALUES ('{co}', '{lo}', '{hi}')",
       "UPDATE duplicate_dismissals SET reason = reason WHERE company_id = '{co}'"},
      {"duplicate_models", {"SELECT", "INSERT", "UPDATE"},
       "INSERT INTO duplicate_models (company_id, parameters, source, trained_records, trained_pairs) "
       "VALUES ('{co}', '{}', 'priors', 0, 0) ON CONFLICT (company_id) DO UPDATE SET source = 'priors'",
       "UPDATE duplicate_models SET source = source WHERE company_id = '{co}'"},
      {"duplicate_candidates", {"SELECT", "INSERT", "UPDATE", "DELETE"},
       "INSERT INTO duplicate_candidates (company_id, customer_a, customer_b, score) VALUES ('{co}', '{lo}', '{hi}', 0.9) "
       "ON CONFLICT DO NOTHING",
       "UPDATE duplicate_candidates SET score = score WHERE company_id = '{co}'"},
      {"duplicate_blocking_companies", {"SELECT"},
       "INSERT INTO duplicate_blocking_companies (company_id, customers) VALUES ('{co}', 1) "
       "ON CONFLICT (company_id) DO UPDATE SET customers = 1",
       "UPDATE duplicate_blocking_companies SET customers = customers WHERE company_id = '{co}'"},
      {"sync_settings", {"SELECT"},
       "INSERT INTO sync_settings (company_id, paused) VALUES ('{co}', true)",
       "UPDATE sync_settings SET paused = true WHERE company_id = '{co}'"},
      {"chat_sync_failures", {"SELECT"},
       "INSERT INTO chat_sync_failures (company_id, vc_usage_id, reason) VALUES ('{co}', {vc}, 'error')",
       "UPDATE chat_sync_failures SET message = message WHERE company_id = '{co}'"},
      {"chat_sync_locks", {},
       "INSERT INTO chat_sync_locks (company_id, lock_key) VALUES ('{co}', -1)",
       "UPDATE chat_sync_locks SET lock_key = lock_key WHERE company_id = '{co}'"},
      {"customer_session_counts", {},
       "INSERT INTO customer_session_counts (company_id, customer_id, session_key, message_count) "
       "VALUES ('{co}', '{c3}', 'rls', 1)",
       "UPDATE customer_session_counts SET message_count = message_count WHERE company_id = '{co}'"},
      {"customer_metrics", {"SELECT"},
       "INSERT INTO customer_metrics (company_id, customer_id) VALUES ('{co}', gen_random_uuid())",
       "UPDATE customer_metrics SET message_count = message_count WHERE company_id = '{co}'"},
      {"customer_search", {},
       "INSERT INTO customer_search (company_id, customer_id, name) VALUES ('{co}', gen_random_uuid(), 'forged')",
       "UPDATE customer_search SET name = name WHERE company_id = '{co}'"},
      {"search_name_terms", {},
       "INSERT INTO search_name_terms (company_id, name, name_lc, customers) VALUES ('{co}', 'forged', 'forged', 1)",
       "UPDATE search_name_terms SET customers = customers WHERE company_id = '{co}'"},
      {"search_email_stems", {},
       "INSERT INTO search_email_stems (company_id, stem, customers) VALUES ('{co}', 'forged', 1)",
       "UPDATE search_email_stems SET customers = customers WHERE company_id = '{co}'"},
      {"customer_audit_log", {"SELECT"},
       "INSERT INTO customer_audit_log (company_id, table_name, operation, record_id) "
       "VALUES ('{co}', 'customers', 'INSERT', 'forged')",
       "UPDATE customer_audit_log SET actor = actor WHERE company_id = '{co}'"},
      {"console_sign_in_codes", {"SELECT", "INSERT"},
       "INSERT INTO console_sign_in_codes (code_hash, company_id, user_id, role, expires_at) "
       "VALUES (encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), '{co}', 'rls', 'viewer', "
       "now() + interval '10 minutes')",
       "UPDATE console_sign_in_codes SET used_at = used_at WHERE company_id = '{co}'"},
      {"console_sessions", {"SELECT", "UPDATE"},
       "INSERT INTO console_sessions (company_id, user_id, role, expires_at) "
       "VALUES ('{co}', 'rls', 'admin', now() + interval '1 hour')",
       "UPDATE console_sessions SET revoked_at = revoked_at WHERE company_id = '{co}'"},
  };
  return specs;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

class TenantIsolationTest : public tradesphere::testing::PgTest {
 protected:
  struct Tenant {
    std::string company, c1, c2, c3, vc;
  };
  std::map<std::string, Tenant> tenants_;

  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name) VALUES ('" + kCompanyA + "', 'a', 'A'), ('" + kCompanyB + "', 'b', 'B')");
    for (const auto& [company, tech] : {std::pair{kCompanyA, std::string("tech-a")}, std::pair{kCompanyB, std::string("tech-b")}}) {
      Tenant t;
      t.company = company;
      w.exec("INSERT INTO app_users (tech_id, company_id) VALUES ('" + tech + "', '" + company + "')");
      auto id = [&](const std::string& name, const std::string& email) {
        return w.exec("INSERT INTO customers (company_id, name, email) VALUES ('" + company + "', '" + name + "', '" +
                      email + "') RETURNING id")[0][0]
            .as<std::string>();
      };
      t.c1 = id("One " + tech, "one@" + tech + ".example");
      t.c2 = id("Two " + tech, "two@" + tech + ".example");
      t.c3 = id("Three " + tech, "three@" + tech + ".example");
      // chat rows linked by the trigger (keys, metrics, session counts, events)
      w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email, user_message) VALUES ('s1', '" + tech +
             "', 'one@" + tech + ".example', 'hi'), ('s2', '" + tech + "', 'two@" + tech + ".example', 'hello')");
      // a failure row
      w.exec("SELECT set_config('app.test_fail_sync', 'on', true)");
      t.vc = w.exec("INSERT INTO \"VC Usage\" (session_id, tech_id, customer_email) VALUES ('s3', '" + tech +
                    "', 'three@" + tech + ".example') RETURNING id")[0][0]
                 .as<std::string>();
      w.exec("SELECT set_config('app.test_fail_sync', '', true)");
      w.exec("INSERT INTO customer_merge_log (company_id, source_customer_id, target_customer_id, source_snapshot, "
             "target_snapshot) VALUES ('" + company + "', '" + t.c2 + "', '" + t.c1 + "', '{}', '{}')");
      w.exec("INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b) VALUES ('" + company +
             "', least('" + t.c1 + "'::uuid, '" + t.c2 + "'::uuid), greatest('" + t.c1 + "'::uuid, '" + t.c2 + "'::uuid))");
      w.exec("INSERT INTO sync_settings (company_id, paused) VALUES ('" + company + "', false)");
      w.exec("INSERT INTO duplicate_blocking_companies (company_id, customers) VALUES ('" + company + "', 3)");
      w.exec("INSERT INTO duplicate_models (company_id, parameters, source, trained_records, trained_pairs) VALUES ('" +
             company + "', '{}', 'priors', 0, 0)");
      w.exec("INSERT INTO duplicate_candidates (company_id, customer_a, customer_b, score) VALUES ('" + company +
             "', least('" + t.c1 + "'::uuid, '" + t.c2 + "'::uuid), greatest('" + t.c1 + "'::uuid, '" + t.c2 +
             "'::uuid), 0.9) ON CONFLICT DO NOTHING");
      w.exec("INSERT INTO console_sign_in_codes (code_hash, company_id, user_id, role, expires_at) VALUES (encode(sha256("
             "convert_to('code-" + tech + "', 'UTF8')), 'hex'), '" + company + "', 'op-" + tech + "', 'admin', "
             "now() + interval '10 minutes')");
      w.exec("INSERT INTO console_sessions (company_id, user_id, role, expires_at) VALUES ('" + company + "', 'op-" +
             tech + "', 'agent', now() + interval '1 hour')");
      tenants_[company] = t;
    }
    w.commit();
  }

  std::string fill(const std::string& tpl, const Tenant& t) {
    const bool c1_first = t.c1 < t.c3;
    std::string s = replace_all(tpl, "{co}", t.company);
    s = replace_all(s, "{c1}", t.c1);
    s = replace_all(s, "{c2}", t.c2);
    s = replace_all(s, "{c3}", t.c3);
    s = replace_all(s, "{lo}", c1_first ? t.c1 : t.c3);
    s = replace_all(s, "{hi}", c1_first ? t.c3 : t.c1);
    return replace_all(s, "{vc}", t.vc);
  }

  // Runs one statement as tradesphere_app with app.company_id = setting (nullptr: unset).
  // Returns "rows:<n>" (affected rows, or the first column for a SELECT count) or "error:<sqlstate>".
  std::string as_app(const char* setting, const std::string& sql, bool commit) {
    pqxx::connection c(app_url());
    try {
      pqxx::work w(c);
      if (setting != nullptr) w.exec_params("SELECT set_config('app.company_id', $1, true)", std::string(setting));
      auto r = w.exec(sql);
      if (commit) w.commit();
      if (sql.rfind("SELECT", 0) == 0) return "rows:" + r[0][0].as<std::string>();
      return "rows:" + std::to_string(r.affected_rows());
    } catch (const pqxx::sql_error& e) {
      return "error:" + sqlstate_of(e);
    }
  }

  // Row count and content fingerprint of one company's rows of every tenant table.
  std::map<std::string, std::string> fingerprints(const std::string& company) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    std::map<std::string, std::string> out;
    for (const auto& spec : tenant_tables()) {
      auto r = tx.exec("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM " +
                       spec.name + " t WHERE company_id = '" + company + "'");
      out[spec.name] = r[0][0].as<std::string>();
    }
    return out;
  }
};

TEST_F(TenantIsolationTest, TheApplicationInOneCompanyCannotSeeOrTouchAnotherCompanysRows) {
  const auto b_before = fingerprints(kCompanyB);
  const auto a_before = fingerprints(kCompanyA);
  const Tenant& a = tenants_.at(kCompanyA);
  const Tenant& b = tenants_.at(kCompanyB);
  for (const auto& spec : tenant_tables()) {
    SCOPED_TRACE(spec.name);
    const bool can_select = spec.granted.count("SELECT") > 0;
    ASSERT_NE(b_before.at(spec.name).rfind("0:", 0), 0U) << "fixture: company B must have rows here";

    // SELECT: own rows visible (when granted), the other company's never
    const std::string own = as_app(kCompanyA.c_str(), "SELECT count(*) FROM " + spec.name, false);
    const std::string other =
        as_app(kCompanyA.c_str(), "SELECT count(*) FROM " + spec.name + " WHERE company_id = '" + kCompanyB + "'", false);
    if (can_select) {
      EXPECT_NE(own, "rows:0");
      const std::string& fp = a_before.at(spec.name);
      EXPECT_EQ(own, "rows:" + fp.substr(0, fp.find(':'))) << "sees exactly its own rows";
      EXPECT_EQ(other, "rows:0");
    } else {
      EXPECT_EQ(own, "error:42501");
      EXPECT_EQ(other, "error:42501");
    }

    // INSERT / UPDATE / DELETE aimed at company B, committed if they succeed
    EXPECT_EQ(as_app(kCompanyA.c_str(), fill(spec.insert_sql, b), true), "error:42501") << "insert into B";
    const std::string upd = as_app(kCompanyA.c_str(), fill(spec.update_sql, b), true);
    EXPECT_EQ(upd, spec.granted.count("UPDATE") ? "rows:0" : "error:42501") << "update of B";
    const std::string del =
        as_app(kCompanyA.c_str(), "DELETE FROM " + spec.name + " WHERE company_id = '" + kCompanyB + "'", true);
    EXPECT_EQ(del, spec.granted.count("DELETE") ? "rows:0" : "error:42501") << "delete of B";

    // the same statements in the application's own company (rolled back): exactly the grants
    const std::string ins_own = as_app(kCompanyA.c_str(), fill(spec.insert_sql, a), false);
    EXPECT_EQ(ins_own, spec.granted.count("INSERT") ? "rows:1" : "error:42501") << "insert into A";
    const std::string upd_own = as_app(kCompanyA.c_str(), fill(spec.update_sql, a), false);
    if (spec.granted.count("UPDATE")) {
      EXPECT_NE(upd_own.rfind("rows:", 0), std::string::npos);
      EXPECT_NE(upd_own, "rows:0");
    } else {
      EXPECT_EQ(upd_own, "error:42501") << "update of A";
    }
    const std::string del_own =
        as_app(kCompanyA.c_str(), "DELETE FROM " + spec.name + " WHERE company_id = '" + kCompanyA + "'", false);
    if (spec.granted.count("DELETE")) {
      EXPECT_NE(del_own, "rows:0");
      EXPECT_EQ(del_own.rfind("rows:", 0), 0U);
    } else {
      EXPECT_EQ(del_own, "error:42501") << "delete in A";
    }
  }
  EXPECT_EQ(fingerprints(kCompanyB), b_before) << "company B's rows changed";
  EXPECT_EQ(fingerprints(kCompanyA), a_before) << "rolled-back probes left traces in company A";
  EXPECT_EQ(as_app(kCompanyA.c_str(), "SELECT count(*) FROM companies", false), "rows:1");
  EXPECT_EQ(as_app(kCompanyA.c_str(), "SELECT count(*) FROM companies WHERE id = '" + kCompanyB + "'", false), "rows:0");
}

TEST_F(TenantIsolationTest, AMissingOrGarbageTenantSettingSeesNothingAndRaisesNothing) {
  const std::vector<const char*> settings = {nullptr, "", "not-a-uuid", "' OR true --",
                                             "aaaaaaaa-0000-4000-8000-00000000000a OR 1=1", "{aaaaaaaa-0000-4000-8000-00000000000a}"};
  for (const char* setting : settings) {
    SCOPED_TRACE(setting == nullptr ? "<unset>" : setting);
    for (const auto& spec : tenant_tables()) {
      if (!spec.granted.count("SELECT")) continue;
      EXPECT_EQ(as_app(setting, "SELECT count(*) FROM " + spec.name, false), "rows:0") << spec.name;
    }
    EXPECT_EQ(as_app(setting, "SELECT count(*) FROM companies", false), "rows:0");
    EXPECT_EQ(as_app(setting, "UPDATE customers SET name = 'x'", true), "rows:0");
  }
  // the owner logged in as itself (migrations, admin CLI) sees both companies
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(DISTINCT company_id) FROM customers")[0][0].as<int>(), 2);
}

// Migration 0021: every tenant policy reads the tenant through a scalar sub-select,
// so PostgreSQL evaluates it once per statement (an InitPlan) instead of inlining
// app_current_company()'s regular expression into a filter run for every row. A
// policy added later in the per-row form fails here.
TEST_F(TenantIsolationTest, EveryTenantPolicyComputesTheTenantOncePerStatement) {
  pqxx::connection c(owner_url());
  pqxx::nontransaction tx(c);
  const auto policies = tx.exec(
      "SELECT tablename, qual, coalesce(with_check, '') FROM pg_policies "
      " WHERE schemaname = 'public' AND policyname = 'tenant_isolation' ORDER BY 1");
  ASSERT_GE(policies.size(), tenant_tables().size());
  for (const auto& row : policies) {
    SCOPED_TRACE(row[0].as<std::string>());
    for (int col : {1, 2}) {
      const std::string expr = row[col].as<std::string>();
      EXPECT_NE(expr.find("SELECT app_current_company()"), std::string::npos) << expr;
    }
  }
  // and the plan of a list page shows it: an InitPlan, no per-row regular expression
  pqxx::connection app(app_url());
  pqxx::work w(app);
  w.exec_params("SELECT set_config('app.company_id', $1, true)", kCompanyA);
  std::string plan;
  int per_row_checks = 0;  // a filter or index condition that calls current_setting() itself
  for (const auto& line : w.exec("EXPLAIN (VERBOSE) SELECT c.id FROM customers c "
                                 "LEFT JOIN customer_metrics m ON m.customer_id = c.id "
                                 "ORDER BY c.created_at DESC LIMIT 10")) {
    const std::string text = line[0].as<std::string>();
    plan += text + "\n";
    const bool condition = text.find("Filter:") != std::string::npos || text.find("Cond:") != std::string::npos;
    if (condition && text.find("current_setting") != std::string::npos) ++per_row_checks;
  }
  EXPECT_NE(plan.find("InitPlan"), std::string::npos) << plan;
  EXPECT_EQ(per_row_checks, 0) << plan;
}

// customer_search is read only through SECURITY DEFINER functions (migration 0011): they
// must answer from the tenant in app.company_id and from nothing else.
TEST_F(TenantIsolationTest, TheSearchFunctionsAnswerOnlyFromTheCurrentTenant) {
  const Tenant& a = tenants_.at(kCompanyA);
  const Tenant& b = tenants_.at(kCompanyB);
  // "One tech-b" is company B's; from A the same query finds only A's customers
  EXPECT_EQ(as_app(kCompanyB.c_str(),
                   "SELECT count(*) FROM search_customer_hits('One tech-b', 'One tech-b', NULL, 50) h "
                   " WHERE h.customer_id = '" + b.c1 + "'", false),
            "rows:1");
  EXPECT_EQ(as_app(kCompanyA.c_str(),
                   "SELECT count(*) FROM search_customer_hits('One tech-b', 'One tech-b', NULL, 50) h "
                   " WHERE h.customer_id NOT IN ('" + a.c1 + "', '" + a.c2 + "', '" + a.c3 + "')", false),
            "rows:0");
  EXPECT_NE(as_app(kCompanyA.c_str(), "SELECT count(*) FROM search_customer_hits('tech', 'tech', NULL, 50)", false),
            "rows:0");
  // a customer id of another tenant yields no candidates, and none of B's ids leak to A
  EXPECT_EQ(as_app(kCompanyA.c_str(), "SELECT count(*) FROM duplicate_candidate_ids('" + b.c1 + "', 100)", false),
            "rows:0");
  EXPECT_EQ(as_app(kCompanyA.c_str(),
                   "SELECT count(*) FROM duplicate_candidate_ids('" + a.c1 + "', 100) d "
                   " WHERE d NOT IN ('" + a.c2 + "', '" + a.c3 + "')", false),
            "rows:0");
  // POST /v1/chat's batch lookup (0043) answers for the current tenant's company only
  const std::string lookup_b = "SELECT count(*) FROM unnest(chat_match_known_batch('" + kCompanyB +
                               "', '[{\"customer_email\": \"One@tech-b.example\"}]')) u WHERE u = '" + b.c1 + "'";
  EXPECT_EQ(as_app(kCompanyB.c_str(), lookup_b, false), "rows:1");
  EXPECT_EQ(as_app(kCompanyA.c_str(), lookup_b, false), "error:42501");
  // and 0048's, which also creates the batch's new contacts: refused before it creates anything
  const std::string create_b = "SELECT count(u) FROM unnest(chat_match_batch('" + kCompanyB +
                               "', '[{\"customer_email\": \"One@tech-b.example\"}, {\"customer_email\": \"new-b@tech-b.example\"}]')) u";
  EXPECT_EQ(as_app(kCompanyB.c_str(), create_b, false), "rows:2");
  EXPECT_EQ(as_app(kCompanyA.c_str(), create_b, false), "error:42501");
  for (const char* setting : {static_cast<const char*>(nullptr), "", "not-a-uuid", "' OR true --"}) {
    SCOPED_TRACE(setting == nullptr ? "<unset>" : setting);
    EXPECT_EQ(as_app(setting, lookup_b, false), "error:42501");
    EXPECT_EQ(as_app(setting, create_b, false), "error:42501");
    EXPECT_EQ(as_app(setting, "SELECT count(*) FROM search_customer_hits('tech', 'tech', NULL, 50)", false), "rows:0");
    EXPECT_EQ(as_app(setting, "SELECT count(*) FROM duplicate_candidate_ids('" + a.c1 + "', 100)", false), "rows:0");
  }
}

TEST_F(TenantIsolationTest, TheTechIdLookupWorksBeforeTheTenantIsKnownAndRevealsNothingElse) {
  EXPECT_EQ(as_app(nullptr, "SELECT count(*) FROM app_users", false), "rows:0");
  pqxx::connection c(app_url());
  pqxx::work w(c);
  EXPECT_EQ(w.exec("SELECT get_user_company_id('tech-b')")[0][0].as<std::string>(), kCompanyB);
  EXPECT_TRUE(w.exec("SELECT get_user_company_id('nobody')")[0][0].is_null());
}

// The console's sign-in (migration 0024): a code is redeemed before the tenant is
// known, once, and only into its own company's session; nothing else is readable.
TEST_F(TenantIsolationTest, AConsoleSignInCodeIsRedeemedOnceIntoItsOwnCompany) {
  EXPECT_EQ(as_app(nullptr, "SELECT count(*) FROM console_sign_in_codes", false), "rows:0");
  EXPECT_EQ(as_app(nullptr, "SELECT count(*) FROM console_sessions", false), "rows:0");
  const std::string hash = "encode(sha256(convert_to('code-tech-b', 'UTF8')), 'hex')";
  pqxx::connection c(app_url());
  {
    pqxx::work w(c);
    auto r = w.exec("SELECT company_id::text, user_id, role, expires_at > now() + interval '7 hours' "
                    "FROM console_redeem_sign_in_code(" + hash + ", 28800)");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0][0].as<std::string>(), kCompanyB);
    EXPECT_EQ(r[0][1].as<std::string>(), "op-tech-b");
    EXPECT_EQ(r[0][2].as<std::string>(), "admin");
    EXPECT_TRUE(r[0][3].as<bool>());
    w.commit();
  }
  pqxx::work w(c);
  EXPECT_EQ(w.exec("SELECT count(*) FROM console_redeem_sign_in_code(" + hash + ", 28800)")[0][0].as<int>(), 0)
      << "single use";
  EXPECT_EQ(w.exec("SELECT count(*) FROM console_redeem_sign_in_code(repeat('0', 64), 28800)")[0][0].as<int>(), 0);
  EXPECT_EQ(w.exec("SELECT count(*) FROM console_sessions")[0][0].as<int>(), 0) << "still no tenant: nothing visible";
  w.abort();
  pqxx::connection owner(owner_url());
  pqxx::nontransaction o(owner);
  EXPECT_EQ(o.exec("SELECT count(*) FROM console_sessions WHERE company_id = '" + kCompanyB + "'")[0][0].as<int>(), 2);
  EXPECT_EQ(o.exec("SELECT count(*) FROM console_sign_in_codes WHERE used_at IS NOT NULL")[0][0].as<int>(), 1);
}

class CatalogLintTest : public tradesphere::testing::PgTest {
 protected:
  pqxx::result query(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
  }
};

TEST_F(CatalogLintTest, EveryTableWithCompanyIdHasRowLevelSecurityEnabledAndForced) {
  auto r = query(
      "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
      "       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
      "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'company_id' AND NOT a.attisdropped "
      " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1");
  std::set<std::string> seen;
  for (const auto& row : r) {
    const auto name = row[0].as<std::string>();
    seen.insert(name);
    EXPECT_TRUE(row[1].as<bool>()) << name << ": RLS not enabled";
    if (name == "customer_search" || name == "duplicate_queue" || name == "search_name_terms" ||
        name == "search_email_stems" || name == "duplicate_blocking" || name == "duplicate_block_sizes" ||
        name == "backfill_company_checkpoint") {
      // Owner-only by design (migrations 0011, 0016, 0017, 0022, 0025, 0036): not forced, so the SECURITY DEFINER
      // functions and triggers can use them; the application role may not touch them.
      EXPECT_FALSE(query("SELECT 1 FROM information_schema.role_table_grants "
                         " WHERE table_name = '" + name + "' AND grantee IN ('tradesphere_app', 'PUBLIC')")
                       .size())
          << name << ": granted to the application";
    } else {
      EXPECT_TRUE(row[2].as<bool>()) << name << ": RLS not forced";
    }
    EXPECT_GT(row[3].as<int>(), 0) << name << ": no policy";
  }
  for (const auto& spec : tenant_tables()) {
    std::string bare = spec.name;
    if (bare.front() == '"') bare = bare.substr(1, bare.size() - 2);
    EXPECT_TRUE(seen.count(bare)) << bare << " should be a tenant table";
  }
  // views must not run with their owner's rights
  auto views = query(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      " WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') "
      "   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)");
  for (const auto& row : views) ADD_FAILURE() << "view without security_invoker: " << row[0].as<std::string>();
}

// Every GIN index keeps a small pending list (migration 0028): with the 4 MB
// default, lookups scanned thousands of unmerged entries after an import (search
// at 1M: 15 -> 48 ms). A new GIN index must set it too.
TEST_F(CatalogLintTest, EveryGinIndexHasASmallPendingList) {
  auto r = query(
      "SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '') FROM pg_class c "
      "  JOIN pg_am a ON a.oid = c.relam AND a.amname = 'gin' "
      "  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' ORDER BY 1");
  ASSERT_GE(r.size(), 8u);
  for (const auto& row : r) {
    EXPECT_NE(row[1].as<std::string>().find("gin_pending_list_limit=64"), std::string::npos)
        << row[0].as<std::string>() << ": " << row[1].as<std::string>();
  }
}

TEST_F(CatalogLintTest, TheApplicationRoleIsNotOwnerSuperuserOrBypassRls) {
  auto role = query("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, "
                    "       pg_has_role('tradesphere_app', 'tradesphere_owner', 'MEMBER') "
                    "  FROM pg_roles WHERE rolname = 'tradesphere_app'");
  ASSERT_EQ(role.size(), 1U);
  EXPECT_FALSE(role[0][0].as<bool>()) << "superuser";
  EXPECT_FALSE(role[0][1].as<bool>()) << "bypassrls";
  EXPECT_FALSE(role[0][2].as<bool>()) << "createrole";
  EXPECT_FALSE(role[0][4].as<bool>()) << "member of the owner role";
  auto owned = query(
      "SELECT 'class ' || relname FROM pg_class WHERE relowner = 'tradesphere_app'::regrole "
      "UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proowner = 'tradesphere_app'::regrole "
      "UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = 'tradesphere_app'::regrole "
      "UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typowner = 'tradesphere_app'::regrole "
      "UNION ALL SELECT 'database ' || datname FROM pg_database WHERE datdba = 'tradesphere_app'::regrole");
  for (const auto& row : owned) ADD_FAILURE() << "tradesphere_app owns " << row[0].as<std::string>();
  auto create = query("SELECT has_schema_privilege('tradesphere_app', 'public', 'CREATE'), "
                      "       has_database_privilege('tradesphere_app', current_database(), 'CREATE')");
  EXPECT_FALSE(create[0][0].as<bool>()) << "may create objects in public";
  EXPECT_FALSE(create[0][1].as<bool>()) << "may create schemas";
}

TEST_F(CatalogLintTest, EverySecurityDefinerFunctionPinsSearchPathAndOnlyTheLookupIsCallable) {
  auto r = query(
      "SELECT p.proname, coalesce(array_to_string(p.proconfig, ';'), ''), "
      "       has_function_privilege('tradesphere_app', p.oid, 'EXECUTE') "
      "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
      " WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1");
  std::set<std::string> names;
  for (const auto& row : r) {
    const auto name = row[0].as<std::string>();
    names.insert(name);
    EXPECT_NE(row[1].as<std::string>().find("search_path=public, pg_temp"), std::string::npos)
        << name << " does not pin search_path: " << row[1].as<std::string>();
    // callable by the application: the tech id lookup, and the /metrics aggregates (0013, 0018)
    // and the doors into customer_search (0011) and duplicate_queue (0016), which read the
    // tenant from app.company_id (duplicate_queue_companies: company ids and counts only),
    // and duplicate_blocking (0022)
    const bool callable = name == "get_user_company_id" || name == "customer_gauges" || name == "chat_sync_failure_gauges" ||
                          name == "search_customer_hits" || name == "duplicate_candidate_ids" ||
                          name == "claim_duplicate_queue" || name == "clear_duplicate_queue" ||
                          name == "duplicate_queue_companies" || name == "store_duplicate_blocking" ||
                          name == "finish_duplicate_blocking" || name == "duplicate_blocking_candidates" ||
                          name == "store_duplicate_block_sizes" ||  // block sizes of a rebuild (0025)
                          name == "duplicate_blocking_rows" || name == "finish_duplicate_blocking_of" ||  // 0029
                          name == "console_redeem_sign_in_code" ||  // console sign-in (0024): code hash in, session out
                          name == "console_purge_ended" ||  // ended console sign-ins (0026)
                          name == "chat_match_known_batch" ||  // POST /v1/chat's lookup (0043): the tenant's own company only
                          name == "chat_match_batch" ||  // and its lookup that creates new contacts (0048): likewise
                          name == "chat_sync_lock_contacts" ||  // the chat sync's key locks for API writers,
                          name == "chat_sync_lock_customers";   // imports and merges (0050): own company only
    EXPECT_EQ(row[2].as<bool>(), callable) << name << ": EXECUTE for tradesphere_app";
  }
  for (const char* expected : {"get_user_company_id", "find_or_create_customer_from_chat", "audit_row_change",
                               "vc_usage_metrics_refresh", "customers_matching_keys_sync"}) {
    EXPECT_TRUE(names.count(expected)) << expected << " should be SECURITY DEFINER";
  }
  // maintenance functions are the owner's
  for (const char* fn : {"rebuild_customer_metrics(uuid,uuid)", "link_chat_row(bigint)", "retry_chat_sync(uuid,integer)",
                         "set_chat_sync_paused(uuid,boolean)", "assign_quarantined_chat_rows(text,uuid)",
                         "customer_metrics_drift(uuid)",
                         "chat_match_customer(uuid,bigint,text,text,text,text,boolean,boolean)",
                         "chat_metrics_add_rows(uuid,bigint[])", "backfill_link_chat_rows(uuid,bigint,integer,boolean)"}) {
    auto p = query(std::string("SELECT has_function_privilege('tradesphere_app', '") + fn + "', 'EXECUTE')");
    EXPECT_FALSE(p[0][0].as<bool>()) << fn;
  }
}

}  // namespace
