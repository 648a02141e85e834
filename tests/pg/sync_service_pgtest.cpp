#include <gtest/gtest.h>

#include "core_fixture.hpp"
#include "services/customer_crud_service.hpp"
#include "domain/errors.hpp"
#include "services/customer_sync_service.hpp"

namespace {

using tradesphere::services::CustomerCrudService;
using tradesphere::db::PageRequest;
using tradesphere::services::CustomerSyncService;
namespace domain = tradesphere::domain;

class CustomerSyncServiceTest : public tradesphere::testing::CoreTest {};

TEST_F(CustomerSyncServiceTest, SyncFromChatCreatesTheCustomerAndReturnsIt) {
  CustomerSyncService sync(*db);
  auto r = sync.sync_from_chat(agent_a, chat("s-1", "tech-a", "Nina Chat", " Nina@Example.com ", "hello there"));
  ASSERT_TRUE(r.customer);
  EXPECT_GT(r.chat_row_id, 0);
  EXPECT_EQ(r.customer->customer.source, domain::CustomerSource::kChat);
  EXPECT_EQ(r.customer->customer.email, "nina@example.com");
  EXPECT_EQ(r.customer->metrics.message_count, 1);
  EXPECT_EQ(r.customer->metrics.last_message_preview, "hello there");
}

TEST_F(CustomerSyncServiceTest, ChatsWithTheSameEmailLinkToOneCustomer) {
  CustomerSyncService sync(*db);
  auto first = sync.sync_from_chat(agent_a, chat("s-1", "tech-a", "Olga", "olga@example.com", "one"));
  auto second = sync.sync_from_chat(agent_a, chat("s-2", "tech-a", "", "OLGA@example.com", "two"));
  ASSERT_TRUE(first.customer && second.customer);
  EXPECT_EQ(first.customer->customer.id, second.customer->customer.id);
  EXPECT_EQ(second.customer->metrics.conversation_count, 2);
  // The same email in another company is another customer.
  auto other = sync.sync_from_chat(agent_b, chat("s-1", "tech-b", "Olga", "olga@example.com", "one"));
  ASSERT_TRUE(other.customer);
  EXPECT_NE(other.customer->customer.id, first.customer->customer.id);
}

TEST_F(CustomerSyncServiceTest, ChatWithoutContactDataIsStoredAsAnOrphanAndListed) {
  CustomerSyncService sync(*db);
  for (int i = 0; i < 3; ++i) {
    auto r = sync.sync_from_chat(agent_a, chat("anon-" + std::to_string(i), "tech-a", "", "", "who am I"));
    EXPECT_FALSE(r.customer);
  }
  sync.sync_from_chat(agent_b, chat("anon-b", "tech-b", "", "", "other tenant"));
  auto first = sync.find_orphaned_conversations(agent_a, PageRequest{2, std::nullopt});
  ASSERT_EQ(first.items.size(), 2u);
  ASSERT_TRUE(first.next_cursor);
  auto second = sync.find_orphaned_conversations(agent_a, PageRequest{2, first.next_cursor});
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_FALSE(second.next_cursor);
  std::set<std::string> sessions;
  for (const auto& page : {first, second}) {
    for (const auto& row : page.items) {
      sessions.insert(*row.session_id);
      EXPECT_FALSE(row.customer_id);
    }
  }
  EXPECT_EQ(sessions, (std::set<std::string>{"anon-0", "anon-1", "anon-2"}));
  EXPECT_THROW(sync.find_orphaned_conversations(agent_a, PageRequest{2, std::string("garbage")}),
               domain::ValidationError);
}

TEST_F(CustomerSyncServiceTest, LinkingASessionMovesEveryRowAndMetricsFollow) {
  CustomerSyncService sync(*db);
  CustomerCrudService repo(*db);
  auto from = sync.sync_from_chat(agent_a, chat("shared", "tech-a", "Wrong Person", "wrong@example.com", "a"));
  sync.sync_from_chat(agent_a, chat("shared", "tech-a", "", "", "b"));
  auto target = repo.create_customer(agent_a, person("Right Person", "right@example.com"));
  auto result = sync.link_conversation_to_customer(agent_a, target.id, "shared");
  EXPECT_EQ(result.moved_rows, 2);
  EXPECT_EQ(result.previous_customer_ids, std::vector<std::string>{from.customer->customer.id});
  auto moved = repo.get_customer_with_metrics(agent_a, target.id);
  EXPECT_EQ(moved.metrics.message_count, 2);
  EXPECT_EQ(moved.metrics.conversation_count, 1);
  EXPECT_EQ(repo.get_customer_with_metrics(agent_a, from.customer->customer.id).metrics.message_count, 0);
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_events WHERE event_type = 'conversation_unlinked' "
                       "AND customer_id = '" + from.customer->customer.id + "'")[0][0].as<int>(),
            1);
  EXPECT_THROW(sync.link_conversation_to_customer(agent_a, target.id, "no-such-session"), domain::NotFoundError);
  EXPECT_THROW(sync.link_conversation_to_customer(agent_b, target.id, "shared"), domain::NotFoundError);
  EXPECT_THROW(sync.link_conversation_to_customer(viewer_a, target.id, "shared"), domain::PermissionError);
}

TEST_F(CustomerSyncServiceTest, ConversationsAreGroupedBySessionAndPaged) {
  CustomerSyncService sync(*db);
  auto r = sync.sync_from_chat(agent_a, chat("c-1", "tech-a", "Paul", "paul@example.com", "first", "2024-03-01T10:00:00Z"));
  sync.sync_from_chat(agent_a, chat("c-1", "tech-a", "", "", "second", "2024-03-01T10:05:00Z"));
  sync.sync_from_chat(agent_a, chat("c-2", "tech-a", "", "paul@example.com", "later", "2024-03-02T09:00:00Z"));
  const auto id = r.customer->customer.id;
  auto all = sync.get_customer_conversations(agent_a, id);
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].session_key, "c-2");
  EXPECT_EQ(all.items[1].session_key, "c-1");
  EXPECT_EQ(all.items[1].message_count, 2);
  EXPECT_EQ(all.items[1].last_user_message, "second");
  EXPECT_LT(all.items[1].first_message_at, all.items[1].last_message_at);
  auto page1 = sync.get_customer_conversations(agent_a, id, PageRequest{1, std::nullopt});
  ASSERT_TRUE(page1.next_cursor);
  auto page2 = sync.get_customer_conversations(agent_a, id, PageRequest{1, page1.next_cursor});
  ASSERT_EQ(page2.items.size(), 1u);
  EXPECT_EQ(page2.items[0].session_key, "c-1");
  EXPECT_FALSE(page2.next_cursor);
  EXPECT_THROW(sync.get_customer_conversations(agent_b, id), domain::NotFoundError);
}

TEST_F(CustomerSyncServiceTest, RelinkOrphansLinksRowsStoredWhileSyncWasPaused) {
  CustomerSyncService sync(*db);
  auto known = sync.sync_from_chat(agent_a, chat("k-1", "tech-a", "Quinn", "quinn@example.com", "hi"));
  owner_exec("SELECT set_chat_sync_paused('" + company_a + "', true)");
  auto paused = sync.sync_from_chat(agent_a, chat("k-2", "tech-a", "Quinn", "quinn@example.com", "while paused"));
  EXPECT_FALSE(paused.customer);
  sync.sync_from_chat(agent_a, chat("k-3", "tech-a", "", "", "anonymous"));
  owner_exec("SELECT set_chat_sync_paused('" + company_a + "', false)");

  auto result = sync.relink_orphans(agent_a);
  EXPECT_EQ(result.examined, 2);
  EXPECT_EQ(result.linked, 1);
  CustomerCrudService repo(*db);
  EXPECT_EQ(repo.get_customer_with_metrics(agent_a, known.customer->customer.id).metrics.message_count, 2);
  EXPECT_EQ(sync.find_orphaned_conversations(agent_a).items.size(), 1u);
  EXPECT_EQ(sync.relink_orphans(agent_b).examined, 0) << "another company's orphans are not touched";
  EXPECT_THROW(sync.relink_orphans(viewer_a), domain::PermissionError);
}

// A conversation stored while sync was paused and then linked by an operator
// (not by relink_orphans) has its open failure resolved (migration 0027): verify
// and /metrics must not count a failure for a row that has its customer.
TEST_F(CustomerSyncServiceTest, LinkingAPausedConversationByHandResolvesItsSyncFailure) {
  CustomerSyncService sync(*db);
  CustomerCrudService repo(*db);
  auto target = repo.create_customer(agent_a, person("Rowan Vale", "rowan@example.com"));
  owner_exec("SELECT set_chat_sync_paused('" + company_a + "', true)");
  EXPECT_FALSE(sync.sync_from_chat(agent_a, chat("p-1", "tech-a", "Rowan", "rowan@example.com", "while paused")).customer);
  owner_exec("SELECT set_chat_sync_paused('" + company_a + "', false)");
  auto open = [&] {
    return owner_exec("SELECT count(*) FROM chat_sync_failures WHERE company_id = '" + company_a +
                      "' AND reason = 'paused' AND resolved_at IS NULL")[0][0]
        .as<int>();
  };
  ASSERT_EQ(open(), 1);
  EXPECT_EQ(sync.link_conversation_to_customer(agent_a, target.id, "p-1").moved_rows, 1);
  EXPECT_EQ(open(), 0);
}

TEST_F(CustomerSyncServiceTest, ViewersMayNotSyncAndBadRecordsAreRejected) {
  CustomerSyncService sync(*db);
  EXPECT_THROW(sync.sync_from_chat(viewer_a, chat("v", "viewer-a", "V", "", "hi")), domain::PermissionError);
  EXPECT_THROW(sync.sync_from_chat(agent_a, chat(" ", "tech-a", "V", "", "hi")), domain::ValidationError);
  EXPECT_THROW(sync.sync_from_chat(agent_a, chat("s", "tech-a", "V", "", "")), domain::ValidationError);
}

TEST_F(CustomerSyncServiceTest, EnrichDelegatesToTheEnrichmentService) {
  CustomerSyncService sync(*db);
  CustomerCrudService repo(*db);
  auto r = sync.sync_from_chat(agent_a, chat("e-1", "tech-a", "Rita", "rita@example.com", "hi"));
  sync.sync_from_chat(agent_a, chat("e-1", "tech-a", "", "", "you can call me on +1 650 253 0000"));
  auto summary = sync.enrich_customer_from_conversations(agent_a, r.customer->customer.id);
  EXPECT_TRUE(summary.delegated);
  EXPECT_TRUE(summary.changes.is_object());
  EXPECT_TRUE(repo.get_customer_by_id(agent_a, r.customer->customer.id).phone.has_value())
      << summary.changes.dump();
  EXPECT_THROW(sync.enrich_customer_from_conversations(agent_b, r.customer->customer.id), domain::NotFoundError);
}

// POST /v1/chat's batch (one multi-row INSERT since migration 0034): the answer is in
// record order, and each record gets what it would get inserted alone in that order:
// a later record finds the customer an earlier one created (by email in another case,
// by session), a record without contact data stays orphaned.
TEST_F(CustomerSyncServiceTest, ABatchIsAnsweredInRecordOrderAndLaterRecordsFindEarlierOnesCustomers) {
  CustomerSyncService sync(*db);
  auto known = sync.sync_from_chat(agent_a, chat("k-1", "tech-a", "Kim", "kim@example.com", "before"));
  ASSERT_TRUE(known.customer);
  std::vector<domain::ChatRecord> batch = {
      chat("b-1", "tech-a", "Pia", "pia@example.com", "one", "2026-03-01T10:00:00Z"),
      chat("b-2", "tech-a", "", "", "two"),
      chat("b-3", "tech-a", "", "PIA@example.com", "three"),
      chat("b-1", "tech-a", "", "", "four"),
      chat("b-4", "tech-a", "", "kim@example.com", "five"),
      chat("b-5", "tech-a", "Quinn", "", "six"),
  };
  const auto stored = sync.sync_batch_from_chat(agent_a, batch);
  ASSERT_EQ(stored.size(), batch.size());
  for (std::size_t i = 1; i < stored.size(); ++i) EXPECT_GT(stored[i].chat_row_id, stored[i - 1].chat_row_id);
  ASSERT_TRUE(stored[0].customer_id);
  EXPECT_FALSE(stored[1].customer_id);
  EXPECT_EQ(stored[2].customer_id, stored[0].customer_id);
  EXPECT_EQ(stored[3].customer_id, stored[0].customer_id);
  EXPECT_EQ(stored[4].customer_id, known.customer->customer.id);
  ASSERT_TRUE(stored[5].customer_id);
  EXPECT_NE(stored[5].customer_id, stored[0].customer_id);
  const auto pia = CustomerCrudService(*db).get_customer_with_metrics(agent_a, *stored[0].customer_id);
  EXPECT_EQ(pia.metrics.message_count, 3);
  EXPECT_EQ(pia.metrics.conversation_count, 2);
  EXPECT_EQ(pia.metrics.last_message_preview, "four");
}

}  // namespace
