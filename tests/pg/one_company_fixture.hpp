// Shared set-up of the pg tests that need one company and nothing else (duplicates,
// enrichment): company 'acme' created as the owner, a Database of two connections on
// the application role (row-level security applies) and an agent's context in it.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "db/database.hpp"
#include "domain/request_context.hpp"
#include "support/pg_fixture.hpp"

namespace tradesphere::testing {

class OneCompanyTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    company_ = w.exec1("INSERT INTO companies (slug, name) VALUES ('acme', 'Acme') RETURNING id::text")[0]
                   .as<std::string>();
    w.commit();
    db::PoolOptions o;
    o.url = app_url();
    o.size = 2;
    db_ = std::make_unique<db::Database>(o);
    ctx_ = {company_, "agent-1", domain::Role::kAgent, ""};
  }

  std::string company_;
  std::unique_ptr<db::Database> db_;
  domain::RequestContext ctx_;
};

}  // namespace tradesphere::testing
