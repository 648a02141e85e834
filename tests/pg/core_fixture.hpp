// Shared set-up of the core library's pg tests (customer_repository, sync,
// lifecycle, facade): two companies with users of every role, created through
// CompanyAdminService on an owner connection, and a Database on the application
// role (row-level security applies).
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "db/database.hpp"
#include "domain/customer.hpp"
#include "services/company_admin_service.hpp"
#include "support/pg_fixture.hpp"

namespace tradesphere::testing {

class CoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    db::PoolOptions owner_options;
    owner_options.url = owner_url();
    owner_options.size = 1;
    owner_db = std::make_unique<db::Database>(owner_options);
    services::CompanyAdminService owner_companies(*owner_db);
    company_a = owner_companies.create_company("acme", "Acme", "1").id;
    company_b = owner_companies.create_company("globex", "Globex", "1").id;
    owner_companies.add_user("tech-a", company_a, domain::Role::kAgent);
    owner_companies.add_user("admin-a", company_a, domain::Role::kAdmin);
    owner_companies.add_user("viewer-a", company_a, domain::Role::kViewer);
    owner_companies.add_user("tech-b", company_b, domain::Role::kAgent);
    db = std::make_unique<db::Database>(options());
    agent_a = {company_a, "tech-a", domain::Role::kAgent, "test-a"};
    viewer_a = {company_a, "viewer-a", domain::Role::kViewer, "test-va"};
    agent_b = {company_b, "tech-b", domain::Role::kAgent, "test-b"};
  }

  db::PoolOptions options(int size = 3) const {
    db::PoolOptions o;
    o.url = app_url();
    o.size = size;
    o.acquire_timeout = std::chrono::milliseconds(300);
    o.statement_timeout = std::chrono::milliseconds(10000);
    return o;
  }

  // A statement run as the owner (bypasses nothing: owner_maintenance policy sees all rows).
  pqxx::result owner_exec(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    auto r = w.exec(sql);
    w.commit();
    return r;
  }

  static domain::NewCustomer person(const std::string& name, const std::string& email = "",
                                    const std::string& phone = "") {
    domain::NewCustomer c;
    c.name = name;
    if (!email.empty()) c.email = email;
    if (!phone.empty()) c.phone = phone;
    c.source = domain::CustomerSource::kManual;
    return c;
  }

  static domain::ChatRecord chat(const std::string& session, const std::string& tech_id, const std::string& name,
                                 const std::string& email, const std::string& message,
                                 const std::string& at = "") {
    domain::ChatRecord r;
    r.session_id = session;
    r.tech_id = tech_id;
    if (!name.empty()) r.customer_name = name;
    if (!email.empty()) r.customer_email = email;
    r.user_message = message;
    r.ai_response = "ok";
    if (!at.empty()) r.created_at = at;
    return r;
  }

  std::unique_ptr<db::Database> owner_db;
  std::unique_ptr<db::Database> db;
  std::string company_a, company_b;
  domain::RequestContext agent_a, viewer_a, agent_b;
};

}  // namespace tradesphere::testing
