// Enrichment from conversations against a real database (issue 6).
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/database.hpp"
#include "domain/errors.hpp"
#include "services/customer_enrichment_service.hpp"
#include "one_company_fixture.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::db::Tx;
using tradesphere::domain::RequestContext;
using tradesphere::domain::Role;
using tradesphere::services::CustomerEnrichmentService;
namespace domain = tradesphere::domain;

class EnrichmentTest : public tradesphere::testing::OneCompanyTest {
 protected:
  std::string add(const std::optional<std::string>& name, const std::optional<std::string>& email) {
    return db_->transact(ctx_, "seed", [&](Tx& tx) {
      return tx
          .exec1("INSERT INTO customers (company_id, name, email, external_id) VALUES ($1, $2, $3, gen_random_uuid()::text) "
                 "RETURNING id::text",
                 company_, name, email)[0]
          .as<std::string>();
    });
  }
  void chat(const std::string& customer, const std::string& session, const std::string& text, const std::string& at) {
    db_->transact(ctx_, "seed", [&](Tx& tx) {
      tx.exec0("INSERT INTO \"VC Usage\" (company_id, customer_id, session_id, tech_id, user_message, ai_response, "
               "created_at) VALUES ($1, $2, $3, 't', $4, 'Thanks, noted. Anything else I can do for you today?', "
               "$5::timestamptz)",
               company_, customer, session, text, at);
    });
  }
  std::string query(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<std::string>();
  }

};

TEST_F(EnrichmentTest, FillsOnlyEmptyFieldsAndRecordsAnEnrichedEvent) {
  auto id = add(std::nullopt, "typed@example.com");
  chat(id, "s1", "Hello, my name is Maria Lopez", "2024-01-01T10:00:00Z");
  chat(id, "s2", "my email is maria@other.example and phone 415-555-2671", "2024-01-02T10:00:00Z");
  CustomerEnrichmentService svc(*db_);
  auto r = svc.enrich_from_conversations(ctx_, id);
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].field, "name");
  EXPECT_EQ(r.changes[0].session_id, "s1");
  EXPECT_EQ(r.changes[1].field, "phone");
  EXPECT_EQ(r.changes[1].value, "+14155552671");
  EXPECT_LT(r.completeness_before, r.completeness_after);
  EXPECT_EQ(query("SELECT name || '|' || email || '|' || phone FROM customers WHERE id = '" + id + "'"),
            "Maria Lopez|typed@example.com|+14155552671");
  EXPECT_EQ(query("SELECT payload->'changes'->0->>'session_id' FROM customer_events WHERE event_type = 'enriched' "
                  "AND customer_id = '" + id + "'"),
            "s1");
  // nothing left to fill: no change, no second event
  EXPECT_TRUE(svc.enrich_from_conversations(ctx_, id).changes.empty());
  EXPECT_EQ(query("SELECT count(*) FROM customer_events WHERE event_type = 'enriched'"), "1");
  RequestContext viewer{company_, "v", Role::kViewer, ""};
  EXPECT_THROW(svc.enrich_from_conversations(viewer, id), domain::PermissionError);
}

// One normalized email, one active customer: an email found in the conversations that
// another active customer holds is reported as skipped, not filled.
TEST_F(EnrichmentTest, AnEmailAnotherActiveCustomerHoldsIsSkippedNotFilled) {
  const auto holder = add("Ann Holder", "ann@x.io");
  const auto id = add(std::nullopt, std::nullopt);
  chat(id, "s1", "my email is ANN@x.io and my phone 415-555-2671", "2024-01-02T10:00:00Z");
  CustomerEnrichmentService svc(*db_);
  const auto r = svc.enrich_from_conversations(ctx_, id);
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].field, "phone");
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].field, "email");
  EXPECT_EQ(r.skipped[0].value, "ann@x.io");
  EXPECT_EQ(r.skipped[0].held_by, holder);
  EXPECT_EQ(to_json(r)["skipped"][0]["held_by"], holder);
  EXPECT_EQ(query("SELECT coalesce(email, '<none>') FROM customers WHERE id = '" + id + "'"), "<none>");
  EXPECT_EQ(query("SELECT count(*) FROM customers WHERE status = 'active' AND normalize_email(email) = 'ann@x.io'"),
            "1");
}

TEST_F(EnrichmentTest, SummaryAndNotes) {
  auto id = add("Tom", std::nullopt);
  chat(id, "s1", "Is my delivery delayed?", "2024-01-01T10:00:00Z");
  chat(id, "s1", "The delivery was supposed to arrive Monday", "2024-01-01T10:01:00Z");
  CustomerEnrichmentService svc(*db_);
  auto s = svc.generate_conversation_summary(ctx_, id);
  EXPECT_EQ(s.sessions, 1u);
  EXPECT_EQ(s.messages, 2u);
  EXPECT_EQ(s.top_terms.at(0), "delivery");
  EXPECT_EQ(svc.generate_conversation_summary(ctx_, id).text, s.text);
  svc.update_customer_notes(ctx_, id, "  prefers email  ");
  EXPECT_EQ(query("SELECT notes FROM customers WHERE id = '" + id + "'"), "prefers email");
  EXPECT_THROW(svc.update_customer_notes(ctx_, "00000000-0000-0000-0000-000000000000", "x"), domain::NotFoundError);
  EXPECT_THROW(svc.update_customer_notes(ctx_, id, std::string(20000, 'x')), domain::ValidationError);
  // with an expected version: the customer comes back; a stale one changes nothing
  auto before = svc.update_customer_notes(ctx_, id, "v-check");
  auto after = svc.update_customer_notes(ctx_, id, "  ", before.version);
  EXPECT_FALSE(after.notes);
  EXPECT_EQ(after.version, before.version + 1);
  try {
    svc.update_customer_notes(ctx_, id, "stale", before.version);
    ADD_FAILURE() << "a stale version was accepted";
  } catch (const domain::VersionConflictError& e) {
    EXPECT_EQ(e.current_version(), after.version);
  }
  EXPECT_EQ(query("SELECT coalesce(notes, '<null>') FROM customers WHERE id = '" + id + "'"), "<null>");
}

}  // namespace
