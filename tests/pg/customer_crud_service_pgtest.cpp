#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core_fixture.hpp"
#include "services/customer_crud_service.hpp"
#include "db/customer_repository.hpp"
#include "db/database.hpp"
#include "domain/errors.hpp"
#include "support/transient_failures.hpp"
#include "services/customer_sync_service.hpp"

namespace {

using tradesphere::services::CustomerCrudService;
using tradesphere::domain::CustomerFilters;
using tradesphere::domain::CustomerPatch;
using tradesphere::domain::LifecycleStage;
using tradesphere::domain::SortKey;
namespace domain = tradesphere::domain;

class CustomerCrudServiceTest : public tradesphere::testing::CoreTest {
 protected:
  std::vector<std::string> ids_of(const std::vector<domain::CustomerWithMetrics>& items) {
    std::vector<std::string> ids;
    for (const auto& c : items) ids.push_back(c.customer.id);
    return ids;
  }
  // Walks every page of `filters` with the given page size.
  std::vector<std::string> walk(CustomerCrudService& repo, CustomerFilters filters, int page_size) {
    std::vector<std::string> ids;
    filters.limit = page_size;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = repo.get_customers(agent_a, filters);
      EXPECT_LE(static_cast<int>(page.items.size()), page_size);
      for (const auto& c : page.items) ids.push_back(c.customer.id);
      if (!page.next_cursor) break;
      filters.cursor = page.next_cursor;
    }
    return ids;
  }
};

TEST_F(CustomerCrudServiceTest, CreateThenGetByIdReturnsTheStoredCustomer) {
  CustomerCrudService repo(*db);
  auto nc = person("Ada Lovelace", "ada@example.com", "+1 415 555 0101");
  nc.tags = {"vip", "early"};
  nc.attributes = {{"plan", "gold"}};
  auto created = repo.create_customer(agent_a, nc);
  EXPECT_EQ(created.company_id, company_a);
  EXPECT_EQ(created.version, 1);
  EXPECT_EQ(created.created_by, "tech-a");
  auto loaded = repo.get_customer_with_metrics(agent_a, created.id);
  EXPECT_EQ(loaded.customer, created);
  EXPECT_EQ(loaded.customer.tags, (std::vector<std::string>{"vip", "early"}));
  EXPECT_EQ(loaded.customer.attributes["plan"], "gold");
  EXPECT_EQ(loaded.metrics.message_count, 0);
}

TEST_F(CustomerCrudServiceTest, ViewerMayReadButNotWrite) {
  CustomerCrudService repo(*db);
  auto c = repo.create_customer(agent_a, person("Grace"));
  EXPECT_NO_THROW(repo.get_customer_by_id(viewer_a, c.id));
  EXPECT_THROW(repo.create_customer(viewer_a, person("Nope")), domain::PermissionError);
  CustomerPatch patch;
  patch.name = std::optional<std::string>("X");
  EXPECT_THROW(repo.update_customer(viewer_a, c.id, patch, std::nullopt), domain::PermissionError);
  EXPECT_THROW(repo.soft_delete_customer(viewer_a, c.id), domain::PermissionError);
}

TEST_F(CustomerCrudServiceTest, OtherCompanyNeverSeesTheCustomer) {
  CustomerCrudService repo(*db);
  auto a = repo.create_customer(agent_a, person("Tenant Alpha", "alpha@example.com"));
  repo.create_customer(agent_b, person("Tenant Beta", "beta@example.com"));
  EXPECT_THROW(repo.get_customer_by_id(agent_b, a.id), domain::NotFoundError);
  EXPECT_THROW(repo.get_customer_by_id(agent_b, a.id, true), domain::NotFoundError);
  EXPECT_FALSE(repo.find_by_email(agent_b, "alpha@example.com"));
  EXPECT_TRUE(repo.search_customers(agent_b, "Alpha").empty());
  CustomerFilters all;
  all.include_total = true;
  auto page_b = repo.get_customers(agent_b, all);
  ASSERT_EQ(page_b.items.size(), 1u);
  EXPECT_EQ(page_b.items[0].customer.name, "Tenant Beta");
  EXPECT_EQ(page_b.total, 1);
  CustomerPatch patch;
  patch.name = std::optional<std::string>("hijacked");
  EXPECT_THROW(repo.update_customer(agent_b, a.id, patch, std::nullopt), domain::NotFoundError);
  EXPECT_THROW(repo.soft_delete_customer(agent_b, a.id), domain::NotFoundError);
  EXPECT_EQ(repo.get_customer_by_id(agent_a, a.id).name, "Tenant Alpha");
}

TEST_F(CustomerCrudServiceTest, ListPageIssuesAtMostTwoStatements) {
  CustomerCrudService repo(*db);
  for (int i = 0; i < 5; ++i) repo.create_customer(agent_a, person("Person " + std::to_string(i)));
  for (SortKey key : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    CustomerFilters f;
    f.sort = key;
    f.limit = 2;
    f.include_total = true;
    f.query = "Person";
    f.tags_any = {};
    auto before = db->statements_executed();
    auto first = repo.get_customers(agent_a, f);
    EXPECT_LE(db->statements_executed() - before, 2u);
    ASSERT_TRUE(first.next_cursor);
    f.cursor = first.next_cursor;
    before = db->statements_executed();
    auto second = repo.get_customers(agent_a, f);
    EXPECT_LE(db->statements_executed() - before, 2u) << domain::to_string(key);
    EXPECT_EQ(second.total, 5);
    EXPECT_EQ(second.items.size(), 2u);
  }
}

TEST_F(CustomerCrudServiceTest, KeysetPagesVisitEveryCustomerOnceInEverySortOrder) {
  CustomerCrudService repo(*db);
  tradesphere::services::CustomerSyncService sync(*db);
  // Names with ties and NULLs, contacts with ties and never-contacted customers.
  repo.create_customer(agent_a, person("bob"));
  repo.create_customer(agent_a, person("Bob"));
  repo.create_customer(agent_a, person("alice"));
  auto no_name = person("");
  no_name.name.reset();
  no_name.email = "anon1@example.com";
  repo.create_customer(agent_a, no_name);
  no_name.email = "anon2@example.com";
  repo.create_customer(agent_a, no_name);
  sync.sync_from_chat(agent_a, chat("s1", "tech-a", "Carol", "carol@example.com", "hi", "2024-01-01T10:00:00Z"));
  sync.sync_from_chat(agent_a, chat("s2", "tech-a", "Carol", "carol@example.com", "again", "2024-01-02T10:00:00Z"));
  sync.sync_from_chat(agent_a, chat("s3", "tech-a", "Dave", "dave@example.com", "hello", "2024-01-02T10:00:00Z"));
  sync.sync_from_chat(agent_a, chat("s4", "tech-a", "Erin", "erin@example.com", "yo", "2023-05-01T10:00:00Z"));

  for (SortKey key : {SortKey::kName, SortKey::kCreatedAt, SortKey::kLastContact, SortKey::kConversationCount}) {
    for (bool descending : {false, true}) {
      CustomerFilters f;
      f.sort = key;
      f.descending = descending;
      f.limit = 1000;
      auto whole = ids_of(repo.get_customers(agent_a, f).items);
      ASSERT_EQ(whole.size(), 8u);
      for (int size : {1, 2, 4}) {
        EXPECT_EQ(walk(repo, f, size), whole) << domain::to_string(key) << (descending ? " desc" : " asc") << " by "
                                              << size;
      }
    }
  }
  // Spot-check the orders themselves.
  CustomerFilters by_conv;
  by_conv.sort = SortKey::kConversationCount;
  by_conv.descending = true;
  auto top = repo.get_customers(agent_a, by_conv).items;
  EXPECT_EQ(top[0].customer.name, "Carol");
  EXPECT_EQ(top[0].metrics.conversation_count, 2);
  CustomerFilters by_contact;
  by_contact.sort = SortKey::kLastContact;
  by_contact.descending = true;
  auto recent = repo.get_customers(agent_a, by_contact).items;
  EXPECT_FALSE(recent[0].metrics.last_contact_at == std::nullopt);
  EXPECT_EQ(recent[2].customer.name, "Erin");  // then the never-contacted ones
  EXPECT_FALSE(recent[3].metrics.last_contact_at.has_value());
  CustomerFilters by_name;
  by_name.sort = SortKey::kName;
  by_name.descending = false;
  auto names = repo.get_customers(agent_a, by_name).items;
  EXPECT_EQ(names[0].customer.name, "alice");
  EXPECT_FALSE(names[7].customer.name.has_value());  // NULL names last when ascending
}

TEST_F(CustomerCrudServiceTest, FiltersSelectTheMatchingCustomers) {
  CustomerCrudService repo(*db);
  auto a = person("Anna Field", "anna@example.com");
  a.tags = {"vip", "b2b"};
  a.stage = LifecycleStage::kCustomer;
  auto anna = repo.create_customer(agent_a, a);
  auto b = person("Boris Stone", "", "+44 20 7946 0958");
  b.tags = {"vip"};
  b.source = domain::CustomerSource::kImport;
  auto boris = repo.create_customer(agent_a, b);
  auto cl = person("Clara Brook");
  auto clara = repo.create_customer(agent_a, cl);

  auto names = [&](CustomerFilters f) {
    f.sort = SortKey::kName;
    f.descending = false;
    std::vector<std::string> out;
    for (auto& c : repo.get_customers(agent_a, f).items) out.push_back(*c.customer.name);
    return out;
  };
  CustomerFilters f;
  f.stage = LifecycleStage::kCustomer;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Anna Field"}));
  f = {};
  f.tags_any = {"vip"};
  EXPECT_EQ(names(f), (std::vector<std::string>{"Anna Field", "Boris Stone"}));
  f = {};
  f.tags_all = {"vip", "b2b"};
  EXPECT_EQ(names(f), (std::vector<std::string>{"Anna Field"}));
  f = {};
  f.source = domain::CustomerSource::kImport;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Boris Stone"}));
  f = {};
  f.has_email = true;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Anna Field"}));
  f = {};
  f.has_phone = false;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Anna Field", "Clara Brook"}));
  f = {};
  f.query = "brook";
  EXPECT_EQ(names(f), (std::vector<std::string>{"Clara Brook"}));
  f = {};
  f.query = "7946";
  EXPECT_EQ(names(f), (std::vector<std::string>{"Boris Stone"}));
  f = {};
  f.query = "100%";  // LIKE wildcards are literal
  EXPECT_TRUE(names(f).empty());
  f = {};
  f.created_from = "2000-01-01";
  f.created_to = "2000-01-02";
  EXPECT_TRUE(names(f).empty());
  f = {};
  f.last_contact_from = "2000-01-01T00:00:00Z";
  EXPECT_TRUE(names(f).empty()) << "never-contacted customers have no last contact";
  f = {};
  f.limit = 0;
  EXPECT_THROW(names(f), domain::ValidationError);
  (void)anna;
  (void)boris;
  (void)clara;
}

TEST_F(CustomerCrudServiceTest, TotalCountsEveryMatchNotJustThePage) {
  CustomerCrudService repo(*db);
  for (int i = 0; i < 7; ++i) repo.create_customer(agent_a, person("T" + std::to_string(i)));
  CustomerFilters f;
  f.limit = 3;
  f.include_total = true;
  auto page = repo.get_customers(agent_a, f);
  EXPECT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.total, 7);
  f.include_total = false;
  EXPECT_FALSE(repo.get_customers(agent_a, f).total.has_value());
  f.include_total = true;
  f.query = "no such customer";
  auto empty = repo.get_customers(agent_a, f);
  EXPECT_TRUE(empty.items.empty());
  EXPECT_EQ(empty.total, 0);
  EXPECT_FALSE(empty.next_cursor);

  // the total of a last-contact range counts the customers whose metrics fall in it
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec0("UPDATE customer_metrics m SET last_contact_at = '2026-03-01T00:00:00Z' FROM customers x "
            "WHERE x.id = m.customer_id AND x.name IN ('T1', 'T4')");
    w.exec0("UPDATE customer_metrics m SET last_contact_at = '2025-03-01T00:00:00Z' FROM customers x "
            "WHERE x.id = m.customer_id AND x.name = 'T2'");
    w.commit();
  }
  f = {};
  f.limit = 1;
  f.include_total = true;
  f.last_contact_from = "2026-01-01T00:00:00Z";
  auto recent = repo.get_customers(agent_a, f);
  EXPECT_EQ(recent.items.size(), 1u);
  EXPECT_EQ(recent.total, 2);
  f.last_contact_from.reset();
  f.last_contact_to = "2026-01-01T00:00:00Z";
  EXPECT_EQ(repo.get_customers(agent_a, f).total, 1) << "T2 only: never-contacted customers have no last contact";
  f.last_contact_from = "2025-01-01T00:00:00Z";
  EXPECT_EQ(repo.get_customers(agent_a, f).total, 1);
}

TEST_F(CustomerCrudServiceTest, SoftDeletedAndMergedCustomersAreHiddenExceptByIdWithIncludeDeleted) {
  CustomerCrudService repo(*db);
  auto kept = repo.create_customer(agent_a, person("Kept Person", "kept@example.com"));
  auto gone = repo.create_customer(agent_a, person("Gone Person", "gone@example.com"));
  auto merged = repo.create_customer(agent_a, person("Merged Person", "merged@example.com"));
  auto deleted = repo.soft_delete_customer(agent_a, gone.id);
  EXPECT_EQ(deleted.status, domain::CustomerStatus::kDeleted);
  EXPECT_TRUE(deleted.deleted_at.has_value());
  owner_exec("UPDATE customers SET status = 'merged', merged_into_customer_id = '" + kept.id + "' WHERE id = '" +
             merged.id + "'");

  CustomerFilters f;
  f.include_total = true;
  auto page = repo.get_customers(agent_a, f);
  EXPECT_EQ(ids_of(page.items), std::vector<std::string>{kept.id});
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(repo.search_customers(agent_a, "Person").size(), 1u);
  EXPECT_FALSE(repo.find_by_email(agent_a, "gone@example.com"));
  EXPECT_FALSE(repo.find_by_email(agent_a, "merged@example.com"));
  EXPECT_THROW(repo.get_customer_by_id(agent_a, gone.id), domain::NotFoundError);
  EXPECT_THROW(repo.get_customer_by_id(agent_a, merged.id), domain::NotFoundError);
  EXPECT_EQ(repo.get_customer_by_id(agent_a, gone.id, true).status, domain::CustomerStatus::kDeleted);
  EXPECT_EQ(repo.get_customer_by_id(agent_a, merged.id, true).merged_into_customer_id, kept.id);
  // Never hard-deleted.
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customers")[0][0].as<int>(), 3);
  // Deleted twice: not found; merged cannot be restored.
  EXPECT_THROW(repo.soft_delete_customer(agent_a, gone.id), domain::NotFoundError);
  EXPECT_THROW(repo.restore_customer(agent_a, merged.id), domain::NotFoundError);
}

TEST_F(CustomerCrudServiceTest, RestoreBringsASoftDeletedCustomerBack) {
  CustomerCrudService repo(*db);
  auto c = repo.create_customer(agent_a, person("Phoenix", "phoenix@example.com"));
  repo.soft_delete_customer(agent_a, c.id);
  auto restored = repo.restore_customer(agent_a, c.id);
  EXPECT_EQ(restored.status, domain::CustomerStatus::kActive);
  EXPECT_FALSE(restored.deleted_at.has_value());
  EXPECT_TRUE(repo.find_by_email(agent_a, "phoenix@example.com"));
  EXPECT_THROW(repo.restore_customer(agent_a, c.id), domain::ConflictError);
}

// One email, one customer: a deleted customer whose email another customer took since
// cannot come back with it (409, the holder's id); it stays deleted.
TEST_F(CustomerCrudServiceTest, RestoringACustomerWhoseEmailIsTakenIsRefusedAndLeavesItDeleted) {
  CustomerCrudService repo(*db);
  auto c = repo.create_customer(agent_a, person("Phoenix", "phoenix@example.com"));
  repo.soft_delete_customer(agent_a, c.id);
  auto other = repo.create_customer(agent_a, person("Phoenix Two", "PHOENIX@example.com"));
  try {
    repo.restore_customer(agent_a, c.id);
    ADD_FAILURE() << "restored over another customer's email";
  } catch (const domain::EmailInUseError& e) {
    EXPECT_EQ(e.existing_customer_id(), other.id);
  }
  EXPECT_EQ(repo.get_customer_by_id(agent_a, c.id, true).status, domain::CustomerStatus::kDeleted);
  const auto holder = repo.find_by_email(agent_a, "phoenix@example.com");
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->id, other.id);
}

TEST_F(CustomerCrudServiceTest, UpdateWithAStaleVersionIsAVersionConflict) {
  CustomerCrudService repo(*db);
  auto c = repo.create_customer(agent_a, person("Versioned"));
  CustomerPatch patch;
  patch.name = std::optional<std::string>("Versioned Twice");
  patch.notes = std::optional<std::string>("first");
  auto updated = repo.update_customer(agent_a, c.id, patch, 1);
  EXPECT_EQ(updated.version, 2);
  EXPECT_EQ(updated.name, "Versioned Twice");
  EXPECT_EQ(updated.notes, "first");
  EXPECT_EQ(updated.updated_by, "tech-a");
  try {
    repo.update_customer(agent_a, c.id, patch, 1);
    FAIL() << "expected a version conflict";
  } catch (const domain::VersionConflictError& e) {
    EXPECT_EQ(e.current_version(), 2);
  }
  // Clearing a nullable field; other fields unchanged.
  CustomerPatch clear;
  clear.notes = std::optional<std::string>(std::nullopt);
  auto cleared = repo.update_customer(agent_a, c.id, clear, std::nullopt);
  EXPECT_FALSE(cleared.notes.has_value());
  EXPECT_EQ(cleared.name, "Versioned Twice");
  EXPECT_EQ(cleared.version, 3);
}

TEST_F(CustomerCrudServiceTest, UpdateRejectsUnknownCustomersAndEmptyPatches) {
  CustomerCrudService repo(*db);
  auto c = repo.create_customer(agent_a, person("Someone"));
  CustomerPatch patch;
  patch.name = std::optional<std::string>("X");
  EXPECT_THROW(repo.update_customer(agent_a, "00000000-0000-0000-0000-000000000000", patch, 1),
               domain::NotFoundError);
  EXPECT_THROW(repo.update_customer(agent_a, "not-a-uuid", patch, 1), domain::NotFoundError);
  EXPECT_THROW(repo.update_customer(agent_a, c.id, CustomerPatch{}, 1), domain::ValidationError);
  CustomerPatch bad_tags;
  bad_tags.tags = std::vector<std::string>{"Not Normalized"};
  EXPECT_THROW(repo.update_customer(agent_a, c.id, bad_tags, 1), domain::ValidationError);
  EXPECT_THROW(repo.create_customer(agent_a, domain::NewCustomer{}), domain::ValidationError);
}

TEST_F(CustomerCrudServiceTest, DuplicateExternalIdIsAConflict) {
  CustomerCrudService repo(*db);
  auto c = person("First");
  c.external_id = "crm-1";
  repo.create_customer(agent_a, c);
  c.name = "Second";
  EXPECT_THROW(repo.create_customer(agent_a, c), domain::ConflictError);
  EXPECT_NO_THROW(repo.create_customer(agent_b, c)) << "external ids are unique per company";
}

TEST_F(CustomerCrudServiceTest, SearchIsPartialTypoTolerantAndRanked) {
  CustomerCrudService repo(*db);
  auto margaret = repo.create_customer(agent_a, person("Margaret Thompson", "mthompson@example.com", "+1 415 555 0199"));
  auto marge = repo.create_customer(agent_a, person("Marge Simpson", "marge@springfield.example"));
  repo.create_customer(agent_a, person("Zed Unrelated", "zed@example.com"));

  auto typo = repo.search_customers(agent_a, "Margret Thomson");
  ASSERT_FALSE(typo.empty());
  EXPECT_EQ(typo[0].customer.customer.id, margaret.id);

  auto exact_email = repo.search_customers(agent_a, "marge@springfield.example");
  ASSERT_FALSE(exact_email.empty());
  EXPECT_EQ(exact_email[0].customer.customer.id, marge.id);
  EXPECT_DOUBLE_EQ(exact_email[0].score, 1.0);

  auto partial = repo.search_customers(agent_a, "marg");
  ASSERT_EQ(partial.size(), 2u);
  for (std::size_t i = 1; i < partial.size(); ++i) EXPECT_GE(partial[i - 1].score, partial[i].score);

  auto phone = repo.search_customers(agent_a, "555-0199");
  ASSERT_EQ(phone.size(), 1u);
  EXPECT_EQ(phone[0].customer.customer.id, margaret.id);
  EXPECT_EQ(phone[0].matched, std::vector<std::string>{"phone"});

  EXPECT_THROW(repo.search_customers(agent_a, "   "), domain::ValidationError);
  EXPECT_THROW(repo.search_customers(agent_a, "x", 0), domain::ValidationError);
}

// The repository's insert (triggers included) inside a unit of work that meets a
// serialization failure after it: the whole transaction is rolled back and run again.
TEST_F(CustomerCrudServiceTest, RetriesTheWholeWriteAfterASerializationFailure) {
  CustomerCrudService repo(*db);
  tradesphere::db::CustomerRepository customers;
  int inserts = 0;
  auto insert = [&](const std::string& name) {
    return [&, name](tradesphere::db::Tx& tx) {
      ++inserts;
      return customers.insert_customer(tx, company_a, person(name));
    };
  };
  auto c = db->transact(agent_a, "create_customer", tradesphere::testing::fail_first(2, insert("Retried Once")));
  EXPECT_EQ(inserts, 3);
  EXPECT_EQ(repo.get_customer_by_id(agent_a, c.id).name, "Retried Once");
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customers WHERE name = 'Retried Once'")[0][0].as<int>(), 1);
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customer_events WHERE event_type = 'created'")[0][0].as<int>(), 1)
      << "the rolled-back tries' trigger writes are gone too";
  inserts = 0;
  EXPECT_THROW(db->transact(agent_a, "create_customer", tradesphere::testing::fail_first(3, insert("Never"))),
               domain::UnavailableError);
  EXPECT_EQ(inserts, 3);
  EXPECT_EQ(owner_exec("SELECT count(*) FROM customers WHERE name = 'Never'")[0][0].as<int>(), 0);
}

// A rule the write breaks is not transient: one try, no retry.
TEST_F(CustomerCrudServiceTest, NeverRetriesAWriteThatBreaksARule) {
  CustomerCrudService repo(*db);
  auto first = person("First");
  first.external_id = "ext-1";
  repo.create_customer(agent_a, first);
  tradesphere::db::CustomerRepository customers;
  int inserts = 0;
  auto again = person("Again");
  again.external_id = "ext-1";
  EXPECT_THROW(db->transact(agent_a, "create_customer",
                            [&](tradesphere::db::Tx& tx) {
                              ++inserts;
                              return customers.insert_customer(tx, company_a, again);
                            }),
               domain::ConflictError);
  EXPECT_EQ(inserts, 1);
}

TEST_F(CustomerCrudServiceTest, AnExhaustedPoolIsUnavailable) {
  tradesphere::db::Database small(options(1));
  CustomerCrudService repo(small);
  auto held = small.pool().acquire();
  EXPECT_THROW(repo.get_customers(agent_a, CustomerFilters{}), domain::UnavailableError);
}

}  // namespace
