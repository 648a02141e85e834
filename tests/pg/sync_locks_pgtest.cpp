// The chat sync's key locks shared with the other writers of who owns a contact
// (migration 0050): a merge and an API write of an email serialize with a chat sync
// that read or created the same contact, instead of racing it.
//
// Each test holds a chat sync's transaction open between its read and its commit
// (the window a concurrent writer could fall into), starts the other writer on its own
// connection, waits until that writer is either blocked on a lock or done, then
// commits the chat sync and checks the outcome. Without the shared locks the other
// writer is done before the chat sync commits, and the invariant checked fails.
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "db/customer_import_repository.hpp"
#include "db/database.hpp"
#include "domain/errors.hpp"
#include "services/customer_crud_service.hpp"
#include "services/customer_merge_service.hpp"
#include "services/customer_sync_service.hpp"
#include "support/chat_rows.hpp"
#include "support/pg_fixture.hpp"

namespace {

using tradesphere::testing::linked_customer;

using tradesphere::db::Database;
using tradesphere::db::PoolOptions;
using tradesphere::db::Tx;
using tradesphere::domain::RequestContext;
using tradesphere::domain::Role;
namespace domain = tradesphere::domain;
namespace services = tradesphere::services;

class SyncLocksTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    company_ = w.exec1("INSERT INTO companies (slug, name) VALUES ('locks', 'locks') RETURNING id::text")[0]
                   .as<std::string>();
    w.commit();
    PoolOptions o;
    o.url = app_url();
    o.size = 2;
    db_ = std::make_unique<Database>(o);
    admin_ = {company_, "admin-1", Role::kAdmin, "corr-1"};
  }

  // A chat sync's transaction on its own connection, as the application.
  struct ChatTx {
    pqxx::connection conn;
    pqxx::work tx;
    ChatTx(const std::string& url, const std::string& company) : conn(url), tx(conn) {
      tx.exec_params("SELECT set_config('app.company_id', $1, true), set_config('app.user_id', 'chat', true)",
                     company);
    }
  };

  std::string chat_row_customer(pqxx::transaction_base& tx, const std::string& session, const std::string& email) {
    const auto id = tx.exec_params1(
        "INSERT INTO \"VC Usage\" (company_id, session_id, tech_id, customer_name, customer_email, user_message) "
        "VALUES ($1::uuid, $2, 'tech', 'Chat Person', nullif($3, ''), 'hello') RETURNING id",
        company_, session, email)[0].as<long long>();
    return linked_customer(tx, id).value_or("");
  }

  std::string customer(const std::string& name, const std::optional<std::string>& email = std::nullopt,
                       const std::optional<std::string>& phone = std::nullopt) {
    domain::NewCustomer n;
    n.name = name;
    n.email = email;
    n.phone = phone;
    return services::CustomerCrudService(*db_).create_customer(admin_, n).id;
  }

  // A customer made by a committed chat row of `session`.
  std::string chat_customer(const std::string& session, const std::string& email) {
    ChatTx first(app_url(), company_);
    auto id = chat_row_customer(first.tx, session, email);
    first.tx.commit();
    return id;
  }

  // The customer POST /v1/chat's batch lookup (chat_match_batch, 0048) answers for one
  // record; "" for none.
  std::string lookup(ChatTx& chat, const std::string& record_json) {
    const auto r = chat.tx.exec_params1("SELECT (chat_match_batch($1::uuid, $2::jsonb))[1]::text", company_,
                                        "[" + record_json + "]")[0];
    return r.is_null() ? "" : r.as<std::string>();
  }

  // The chat row as insert_chats stores an answered record: with its customer.
  void insert_answered(ChatTx& chat, const std::string& session, const std::string& email,
                       const std::string& customer) {
    chat.tx.exec_params0(
        "INSERT INTO \"VC Usage\" (company_id, session_id, tech_id, customer_email, user_message, customer_id) "
        "VALUES ($1::uuid, $2, 'tech', nullif($3, ''), 'hello', $4::uuid)",
        company_, session, email, customer);
  }

  long chat_rows_not_on(const std::string& customer) {
    return owner_query<long>("SELECT count(*) FROM \"VC Usage\" WHERE company_id = '" + company_ +
                             "' AND customer_id IS DISTINCT FROM '" + customer + "'");
  }

  long drift() { return owner_query<long>("SELECT count(*) FROM customer_metrics_drift('" + company_ + "')"); }

  template <typename T>
  T owner_query(const std::string& sql) {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    return w.exec(sql)[0][0].as<T>();
  }

  // Waits until `f` is ready or another backend of this database waits on a lock;
  // true when the writer is blocked (the lock works), false when it finished first.
  template <typename F>
  bool blocked_on_a_lock(F& f) {
    for (int i = 0; i < 500; ++i) {
      if (f.wait_for(std::chrono::milliseconds(20)) == std::future_status::ready) return false;
      pqxx::connection c(superuser_url());  // other roles' wait events are visible to it
      pqxx::work w(c);
      if (w.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND wait_event_type = 'Lock'")[0]
              .as<long>() > 0)
        return true;
    }
    ADD_FAILURE() << "the writer neither finished nor waited on a lock within 10 s";
    return false;
  }

  std::string company_;
  std::unique_ptr<Database> db_;
  RequestContext admin_;
};

// A chat sync reads "this email is X's" (POST /v1/chat's batch lookup), then a
// merge of X into Y starts before the chat row is inserted. The merge waits for the
// chat sync, whose row it then moves: no chat row is left on a merged customer.
TEST_F(SyncLocksTest, AMergeWaitsForAChatSyncThatReadTheSourcesEmailAndMovesItsRow) {
  const auto x = customer("Xavier Source", "x@locks.example");
  const auto y = customer("Yvonne Target", "y@locks.example");

  ChatTx chat(app_url(), company_);
  ASSERT_EQ(lookup(chat, R"({"session_id": "s-new", "tech_id": "tech", "customer_email": " X@Locks.Example"})"), x);
  services::CustomerMergeService merges(*db_);
  auto merge = std::async(std::launch::async, [&] { return merges.merge_customers(admin_, y, {x}).merge_id; });
  const bool waited = blocked_on_a_lock(merge);
  insert_answered(chat, "s-new", " X@Locks.Example", x);
  chat.tx.commit();
  EXPECT_FALSE(merge.get().empty());
  EXPECT_TRUE(waited) << "the merge did not wait for the chat sync that read its source's email";
  EXPECT_EQ(chat_rows_not_on(y), 0) << "a chat row was left on the merged customer";
  EXPECT_EQ(drift(), 0);
}

// The same through a session: the chat sync reads "session s-1 is X's", the merge
// waits for it.
TEST_F(SyncLocksTest, AMergeWaitsForAChatSyncThatReadTheSourcesSession) {
  const auto x = chat_customer("s-1", "x2@locks.example");
  ASSERT_FALSE(x.empty());
  const auto y = customer("Yolanda Target");

  ChatTx chat(app_url(), company_);
  ASSERT_EQ(lookup(chat, R"({"session_id": "s-1", "tech_id": "tech"})"), x);
  services::CustomerMergeService merges(*db_);
  auto merge = std::async(std::launch::async, [&] { return merges.merge_customers(admin_, y, {x}).merge_id; });
  const bool waited = blocked_on_a_lock(merge);
  insert_answered(chat, "s-1", "", x);
  chat.tx.commit();
  EXPECT_FALSE(merge.get().empty());
  EXPECT_TRUE(waited) << "the merge did not wait for the chat sync that read its source's session";
  EXPECT_EQ(chat_rows_not_on(y), 0);
  EXPECT_EQ(drift(), 0);
}

// Undoing a merge waits for a chat sync that read "this session is the target's": the
// sync's row is then one of the rows that arrived on the target before the undo, which
// stay on the target (docs/duplicates.md); nothing is left half-moved.
TEST_F(SyncLocksTest, UndoingAMergeWaitsForAChatSyncThatReadTheTargetsSession) {
  const auto x = chat_customer("s-u", "xu@locks.example");
  ASSERT_FALSE(x.empty());
  const auto y = customer("Yusuf Target");
  services::CustomerMergeService merges(*db_);
  const auto merge_id = merges.merge_customers(admin_, y, {x}).merge_id;

  ChatTx chat(app_url(), company_);
  ASSERT_EQ(lookup(chat, R"({"session_id": "s-u", "tech_id": "tech"})"), y);
  auto undo = std::async(std::launch::async, [&] { return merges.undo_merge(admin_, merge_id).merge_id; });
  const bool waited = blocked_on_a_lock(undo);
  insert_answered(chat, "s-u", "", y);
  chat.tx.commit();
  EXPECT_EQ(undo.get(), merge_id);
  EXPECT_TRUE(waited) << "the undo did not wait for the chat sync that read the target's session";
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM \"VC Usage\" WHERE session_id = 's-u' AND customer_id = '" + x +
                              "'"),
            1);  // the row from before the merge, moved back
  EXPECT_EQ(chat_rows_not_on(x), 1);  // the row that arrived on the target stays there
  EXPECT_EQ(drift(), 0);
}

// A deletion waits for a chat sync that read the customer's email; the chat's row, read
// before, keeps its link like the customer's older rows, and the next chat with that
// email no longer finds the deleted customer (it creates a new one).
TEST_F(SyncLocksTest, ADeletionWaitsForAChatSyncThatReadTheCustomersEmail) {
  const auto d = customer("Dora Deleted", "d@locks.example");

  ChatTx chat(app_url(), company_);
  ASSERT_EQ(lookup(chat, R"({"session_id": "s-d", "tech_id": "tech", "customer_email": "d@locks.example"})"), d);
  services::CustomerCrudService crud(*db_);
  auto del = std::async(std::launch::async, [&] { return crud.soft_delete_customer(admin_, d).id; });
  const bool waited = blocked_on_a_lock(del);
  insert_answered(chat, "s-d", "d@locks.example", d);
  chat.tx.commit();
  EXPECT_EQ(del.get(), d);
  // the deletion's UPDATE ran after the chat committed (it waited for it)
  EXPECT_TRUE(waited) << "the deletion did not wait for the chat sync that read the customer's email";
  const auto other = chat_customer("s-d2", "d@locks.example");
  EXPECT_FALSE(other.empty());
  EXPECT_NE(other, d);
}

// The one deadlock the shared locks add: a chat transaction holds one of a customer's
// buckets (its email's) while a merge of that customer holds a lower one (its phone's)
// and waits; the chat's next statement then wants the phone's bucket. The merge waited
// first, so its deadlock check fires first and it is the one aborted, then retried by
// the service (deadlock is a transient failure): the chat rows are linked, no sync
// failure is recorded, and the merge completes and moves them.
TEST_F(SyncLocksTest, AMergeDeadlockedWithAChatSyncIsTheOneRetried) {
  // a phone whose bucket sorts below the email's
  std::string phone;
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    phone = w.exec_params1(
                 "SELECT p FROM (SELECT '+1415555' || lpad(g::text, 4, '0') AS p FROM generate_series(1, 200) g) x "
                 "WHERE chat_lock_key($1::uuid, 'phone', normalize_phone(x.p, NULL)) & 1048575 "
                 "    < chat_lock_key($1::uuid, 'email', 'dl@locks.example') & 1048575 LIMIT 1",
                 company_)[0]
                .as<std::string>();
  }
  const auto x = customer("Dale Source", "dl@locks.example", phone);
  const auto y = customer("Yara Target");

  ChatTx chat(app_url(), company_);
  EXPECT_EQ(chat_row_customer(chat.tx, "s-dl1", "dl@locks.example"), x);  // holds the email's bucket
  services::CustomerMergeService merges(*db_);
  auto merge = std::async(std::launch::async, [&] { return merges.merge_customers(admin_, y, {x}).merge_id; });
  ASSERT_TRUE(blocked_on_a_lock(merge));  // holds the phone's bucket, waits for the email's
  const auto second = linked_customer(chat.tx, chat.tx.exec_params1(
      "INSERT INTO \"VC Usage\" (company_id, session_id, tech_id, customer_phone, user_message) "
      "VALUES ($1::uuid, 's-dl2', 'tech', $2, 'by phone') RETURNING id",
      company_, phone)[0].as<long long>()).value_or("");
  chat.tx.commit();
  EXPECT_FALSE(merge.get().empty());
  ASSERT_FALSE(second.empty()) << "the chat row was the deadlock's victim";
  EXPECT_EQ(second, x);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM chat_sync_failures WHERE company_id = '" + company_ + "'"), 0);
  EXPECT_EQ(chat_rows_not_on(y), 0);
  EXPECT_EQ(drift(), 0);
}

// An agent moves a conversation to another customer while a chat sync that read
// "this session is A's" has not committed: the move waits and takes its row too, so
// the session does not split (its next rows would follow the newest, A's).
TEST_F(SyncLocksTest, MovingAConversationWaitsForAChatSyncThatReadItsSession) {
  const auto a = chat_customer("s-3", "a3@locks.example");
  ASSERT_FALSE(a.empty());
  const auto b = customer("Bea Owner");

  ChatTx chat(app_url(), company_);
  ASSERT_EQ(lookup(chat, R"({"session_id": "s-3", "tech_id": "tech"})"), a);
  services::CustomerSyncService sync(*db_);
  auto move = std::async(std::launch::async,
                         [&] { return sync.link_conversation_to_customer(admin_, b, "s-3").moved_rows; });
  const bool waited = blocked_on_a_lock(move);
  insert_answered(chat, "s-3", "", a);
  chat.tx.commit();
  EXPECT_EQ(move.get(), 2);
  EXPECT_TRUE(waited);
  EXPECT_EQ(chat_rows_not_on(b), 0) << "the row read before the move stayed on the old customer";
  EXPECT_EQ(drift(), 0);
}

// A chat row creates a customer for a new email; `POST /v1/customers` with the same
// email in another case and padding starts before the chat commits. It waits, then
// answers 409 with the chat's customer: one email, one active customer.
TEST_F(SyncLocksTest, AnApiCreateOfAnEmailWaitsForAChatSyncCreatingItsCustomer) {
  ChatTx chat(app_url(), company_);
  const auto created = chat_row_customer(chat.tx, "s-9", "new.person@locks.example");
  ASSERT_FALSE(created.empty());

  services::CustomerCrudService crud(*db_);
  auto create = std::async(std::launch::async, [&]() -> std::string {
    domain::NewCustomer n;
    n.name = "New Person";
    n.email = "  NEW.Person@Locks.example ";
    try {
      return "created " + crud.create_customer(admin_, n).id;
    } catch (const domain::EmailInUseError& e) {
      return std::string("in use: ") + e.what();
    }
  });
  const bool waited = blocked_on_a_lock(create);
  chat.tx.commit();
  const auto outcome = create.get();
  EXPECT_TRUE(waited);
  EXPECT_EQ(outcome.rfind("in use", 0), 0u) << outcome;
  EXPECT_NE(outcome.find(created), std::string::npos) << outcome;
  EXPECT_EQ(owner_query<long>("SELECT count(DISTINCT k.customer_id) FROM customer_matching_keys k JOIN customers c "
                              "ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active' "
                              "WHERE k.company_id = '" + company_ +
                              "' AND k.key_type = 'email' AND k.key_value = 'new.person@locks.example'"),
            1);
}

// The same for an import batch skipping rows whose email has an owner.
TEST_F(SyncLocksTest, AnImportBatchWaitsForAChatSyncCreatingTheCustomerOfOneOfItsEmails) {
  ChatTx chat(app_url(), company_);
  const auto created = chat_row_customer(chat.tx, "s-7", "imported@locks.example");
  ASSERT_FALSE(created.empty());

  auto import = std::async(std::launch::async, [&] {
    return db_->transact(admin_, "import", [&](Tx& tx) {
      std::vector<tradesphere::db::ImportRow> rows(2);
      rows[0].name = "Other Person";
      rows[0].email = "other@locks.example";
      rows[1].name = "Imported Person";
      rows[1].email = "IMPORTED@locks.example ";
      return tradesphere::db::insert_import_batch(tx, company_, rows, domain::ExistingEmail::kSkip);
    });
  });
  const bool waited = blocked_on_a_lock(import);
  chat.tx.commit();
  const auto result = import.get();
  EXPECT_TRUE(waited);
  EXPECT_EQ(result.inserted, 1u);
  ASSERT_EQ(result.existing_emails.size(), 1u);
  EXPECT_EQ(result.existing_emails[0].index, 1u);
  EXPECT_EQ(result.existing_emails[0].customer_id, created);
  EXPECT_EQ(owner_query<long>("SELECT count(*) FROM customers WHERE company_id = '" + company_ +
                              "' AND status = 'active' AND normalize_email(email) = 'imported@locks.example'"),
            1);
}

// The locking functions answer for the caller's own tenant only (they are SECURITY
// DEFINER and callable by the application).
TEST_F(SyncLocksTest, TheLockFunctionsRefuseAnotherTenantsCompany) {
  pqxx::connection c(app_url());
  for (const char* sql : {"SELECT chat_sync_lock_contacts($1::uuid, '{}', ARRAY['a@b.c'], '{}')",
                          "SELECT chat_sync_lock_customers($1::uuid, '{}'::uuid[])"}) {
    pqxx::work w(c);
    w.exec("SELECT set_config('app.company_id', 'aaaaaaaa-0000-4000-8000-00000000000a', true)");
    try {
      w.exec_params(sql, company_);
      ADD_FAILURE() << sql << " locked another tenant's keys";
    } catch (const pqxx::insufficient_privilege&) {
    }
  }
  pqxx::work w(c);
  w.exec_params("SELECT set_config('app.company_id', $1, true)", company_);
  EXPECT_EQ(w.exec_params1("SELECT chat_sync_lock_contacts($1::uuid, ARRAY['s'], ARRAY['A@B.C', 'a@b.c '], '{}')",
                           company_)[0]
                .as<int>(),
            2);  // one session bucket, one email bucket
}

}  // namespace
