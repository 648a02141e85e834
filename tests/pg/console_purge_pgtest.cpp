// Ended console sign-ins are deleted (migration 0026): codes expired and sessions
// expired or revoked longer ago than the grace period, in every company; what is
// still usable (or ended only recently) stays, and the application role can reach
// the rows only through console_purge_ended().
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "services/console_session_service.hpp"
#include "db/database.hpp"
#include "support/pg_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using tradesphere::services::ConsoleSessionService;
using tradesphere::db::Database;
using tradesphere::db::PoolOptions;

class ConsolePurgeTest : public tradesphere::testing::PgTest {
 protected:
  long count(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::nontransaction n(c);
    return n.exec1(sql)[0].as<long>();
  }
};

TEST_F(ConsolePurgeTest, EndedCodesAndSessionsOfEveryCompanyGoAndLiveOnesStay) {
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    for (const char* slug : {"p1", "p2"}) {
      const auto co = w.exec1(std::string("INSERT INTO companies (slug, name) VALUES ('") + slug + "', 'P') RETURNING id::text")[0]
                          .as<std::string>();
      // codes: expired two days ago (used or not), expired an hour ago, still valid
      w.exec("INSERT INTO console_sign_in_codes (code_hash, company_id, user_id, role, created_at, expires_at, used_at) "
             "VALUES (encode(sha256(convert_to('" + co + "old', 'UTF8')), 'hex'), '" + co + "', 'u', 'agent', "
             "        now() - interval '2 days 10 minutes', now() - interval '2 days', NULL), "
             "       (encode(sha256(convert_to('" + co + "used', 'UTF8')), 'hex'), '" + co + "', 'u', 'agent', "
             "        now() - interval '3 days', now() - interval '3 days' + interval '10 minutes', now() - interval '3 days'), "
             "       (encode(sha256(convert_to('" + co + "recent', 'UTF8')), 'hex'), '" + co + "', 'u', 'agent', "
             "        now() - interval '70 minutes', now() - interval '1 hour', NULL), "
             "       (encode(sha256(convert_to('" + co + "live', 'UTF8')), 'hex'), '" + co + "', 'u', 'agent', "
             "        now(), now() + interval '10 minutes', NULL)");
      // sessions: expired two days ago, revoked two days ago (not yet expired), live, revoked a minute ago
      w.exec("INSERT INTO console_sessions (company_id, user_id, role, created_at, expires_at, revoked_at) VALUES "
             "('" + co + "', 'u', 'admin', now() - interval '3 days', now() - interval '2 days', NULL), "
             "('" + co + "', 'u', 'admin', now() - interval '2 days 1 hour', now() + interval '1 day', now() - interval '2 days'), "
             "('" + co + "', 'u', 'admin', now(), now() + interval '8 hours', NULL), "
             "('" + co + "', 'u', 'admin', now() - interval '1 hour', now() + interval '7 hours', now() - interval '1 minute')");
    }
    w.commit();
  }
  PoolOptions o;
  o.url = app_url();
  o.size = 1;
  Database db(o);
  ConsoleSessionService sessions(db);
  const auto purged = sessions.purge_ended(24h);
  EXPECT_EQ(purged.codes, 4) << "two ended codes in each company";
  EXPECT_EQ(purged.sessions, 4) << "the expired and the long-revoked session of each company";
  EXPECT_EQ(count("SELECT count(*) FROM console_sign_in_codes"), 4);
  EXPECT_EQ(count("SELECT count(*) FROM console_sign_in_codes WHERE expires_at < now() - interval '1 day'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM console_sessions"), 4);
  EXPECT_EQ(count("SELECT count(*) FROM console_sessions WHERE revoked_at < now() - interval '1 day' "
                  "OR expires_at < now() - interval '1 day'"),
            0);

  // a second pass finds nothing; no grace deletes what ended at all
  EXPECT_EQ(sessions.purge_ended(24h).codes, 0);
  const auto all = sessions.purge_ended(0s);
  EXPECT_EQ(all.codes, 2) << "the codes expired an hour ago";
  EXPECT_EQ(all.sessions, 2) << "the sessions revoked a minute ago";
  EXPECT_EQ(count("SELECT count(*) FROM console_sessions WHERE revoked_at IS NULL AND expires_at > now()"), 2);

  // the application role has no other way to delete them
  pqxx::connection app(app_url());
  pqxx::work w(app);
  EXPECT_THROW(w.exec("DELETE FROM console_sessions"), pqxx::insufficient_privilege);
}

}  // namespace
