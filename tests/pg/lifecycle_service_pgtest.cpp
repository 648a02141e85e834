#include <algorithm>
#include <cctype>
#include <set>

#include <gtest/gtest.h>

#include "core_fixture.hpp"
#include "services/customer_crud_service.hpp"
#include "domain/errors.hpp"
#include "services/customer_lifecycle_service.hpp"
#include "services/customer_sync_service.hpp"

namespace {

using tradesphere::services::CustomerCrudService;
using tradesphere::domain::LifecycleStage;
using tradesphere::services::CustomerLifecycleService;
namespace domain = tradesphere::domain;

class CustomerLifecycleServiceTest : public tradesphere::testing::CoreTest {
 protected:
  int events(const std::string& customer_id, const std::string& type) {
    return owner_exec("SELECT count(*) FROM customer_events WHERE customer_id = '" + customer_id +
                      "' AND event_type = '" + type + "'")[0][0]
        .as<int>();
  }
};

TEST_F(CustomerLifecycleServiceTest, UpdateLifecycleStageRecordsFromAndTo) {
  CustomerCrudService repo(*db);
  CustomerLifecycleService lifecycle(*db);
  auto c = repo.create_customer(agent_a, person("Stage Person"));
  auto updated = lifecycle.update_lifecycle_stage(agent_a, c.id, LifecycleStage::kCustomer, 1);
  EXPECT_EQ(updated.stage, LifecycleStage::kCustomer);
  auto timeline = lifecycle.get_customer_timeline(agent_a, c.id);
  ASSERT_FALSE(timeline.items.empty());
  EXPECT_EQ(timeline.items[0].type, "stage_changed");
  EXPECT_EQ(timeline.items[0].data["payload"]["from"], "prospect");
  EXPECT_EQ(timeline.items[0].data["payload"]["to"], "customer");
  EXPECT_THROW(lifecycle.update_lifecycle_stage(agent_a, c.id, LifecycleStage::kLead, 1),
               domain::VersionConflictError);
  EXPECT_THROW(lifecycle.update_lifecycle_stage(viewer_a, c.id, LifecycleStage::kLead), domain::PermissionError);
  EXPECT_THROW(lifecycle.update_lifecycle_stage(agent_b, c.id, LifecycleStage::kLead), domain::NotFoundError);
}

TEST_F(CustomerLifecycleServiceTest, TagsAreNormalizedDeduplicatedAndRemovable) {
  CustomerCrudService repo(*db);
  CustomerLifecycleService lifecycle(*db);
  auto c = repo.create_customer(agent_a, person("Tag Person"));
  auto tagged = lifecycle.add_tags(agent_a, c.id, {"  VIP ", "vip", "Big   Deal"});
  EXPECT_EQ(tagged.tags, (std::vector<std::string>{"vip", "big deal"}));
  auto again = lifecycle.add_tags(agent_a, c.id, {"VIP", "new"});
  EXPECT_EQ(again.tags, (std::vector<std::string>{"vip", "big deal", "new"}));
  auto removed = lifecycle.remove_tags(agent_a, c.id, {"Big Deal", "absent"});
  EXPECT_EQ(removed.tags, (std::vector<std::string>{"vip", "new"}));
  EXPECT_EQ(events(c.id, "tags_added"), 2);
  EXPECT_EQ(events(c.id, "tags_removed"), 1);
  EXPECT_THROW(lifecycle.add_tags(agent_a, c.id, {"bad/tag"}), domain::ValidationError);
  EXPECT_THROW(lifecycle.add_tags(agent_a, c.id, {}), domain::ValidationError);
  EXPECT_THROW(lifecycle.add_tags(viewer_a, c.id, {"x"}), domain::PermissionError);
}

TEST_F(CustomerLifecycleServiceTest, ACustomerHasAtMostFiftyTags) {
  CustomerCrudService repo(*db);
  CustomerLifecycleService lifecycle(*db);
  auto c = repo.create_customer(agent_a, person("Many Tags"));
  std::vector<std::string> forty;
  for (int i = 0; i < 40; ++i) forty.push_back("t" + std::to_string(i));
  lifecycle.add_tags(agent_a, c.id, forty);
  std::vector<std::string> twenty;
  for (int i = 0; i < 20; ++i) twenty.push_back("u" + std::to_string(i));
  EXPECT_THROW(lifecycle.add_tags(agent_a, c.id, twenty), domain::ValidationError);
  EXPECT_EQ(repo.get_customer_by_id(agent_a, c.id).tags.size(), 40u);
}

TEST_F(CustomerLifecycleServiceTest, BulkUpdateIsOneStatementAndReportsIdsNotFound) {
  CustomerCrudService repo(*db);
  CustomerLifecycleService lifecycle(*db);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(repo.create_customer(agent_a, person("Bulk " + std::to_string(i))).id);
  auto already = person("Already");
  already.stage = LifecycleStage::kLead;
  auto already_lead = repo.create_customer(agent_a, already);
  auto deleted = repo.create_customer(agent_a, person("Deleted"));
  repo.soft_delete_customer(agent_a, deleted.id);
  auto foreign = repo.create_customer(agent_b, person("Foreign"));

  std::vector<std::string> request = ids;
  request.push_back(ids[0]);  // duplicate
  request.push_back(already_lead.id);
  request.push_back(deleted.id);
  request.push_back(foreign.id);
  request.push_back("not-a-uuid");
  request.push_back("00000000-0000-0000-0000-000000000000");
  std::string upper = ids[1];
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return std::toupper(ch); });
  request.push_back(upper);  // the same customer in upper case: found, counted once
  request.push_back(" " + ids[2]);  // padded: not a uuid

  auto before = db->statements_executed();
  auto result = lifecycle.bulk_update_lifecycle_stage(agent_a, request, LifecycleStage::kLead);
  EXPECT_EQ(db->statements_executed() - before, 2u) << "settings + one set-based statement";
  EXPECT_EQ(result.updated, 4);
  EXPECT_EQ(result.unchanged, 1);
  std::set<std::string> not_found(result.not_found.begin(), result.not_found.end());
  EXPECT_EQ(not_found, (std::set<std::string>{deleted.id, foreign.id, "not-a-uuid",
                                              "00000000-0000-0000-0000-000000000000", " " + ids[2]}));
  EXPECT_EQ(result.not_found.size(), not_found.size()) << "each not-found id once";
  for (const auto& id : ids) {
    EXPECT_EQ(repo.get_customer_by_id(agent_a, id).stage, LifecycleStage::kLead);
    EXPECT_EQ(events(id, "stage_changed"), 1);
  }
  EXPECT_EQ(events(already_lead.id, "stage_changed"), 0);
  EXPECT_EQ(repo.get_customer_by_id(agent_b, foreign.id).stage, LifecycleStage::kProspect);
}

TEST_F(CustomerLifecycleServiceTest, BulkUpdateAcceptsTenThousandIdsAndNoMore) {
  CustomerLifecycleService lifecycle(*db);
  std::vector<std::string> ids(10000, "00000000-0000-0000-0000-000000000000");
  auto result = lifecycle.bulk_update_lifecycle_stage(agent_a, ids, LifecycleStage::kLead);
  EXPECT_EQ(result.updated, 0);
  EXPECT_EQ(result.not_found.size(), 1u);
  ids.push_back("x");
  EXPECT_THROW(lifecycle.bulk_update_lifecycle_stage(agent_a, ids, LifecycleStage::kLead), domain::ValidationError);
  EXPECT_THROW(lifecycle.bulk_update_lifecycle_stage(viewer_a, {"x"}, LifecycleStage::kLead),
               domain::PermissionError);
}

TEST_F(CustomerLifecycleServiceTest, TimelineMergesEventsConversationsAndMergesInOneOrderedPagedStream) {
  CustomerCrudService repo(*db);
  CustomerLifecycleService lifecycle(*db);
  tradesphere::services::CustomerSyncService sync(*db);
  auto r = sync.sync_from_chat(agent_a, chat("t-1", "tech-a", "Tess", "tess@example.com", "hello"));
  const auto id = r.customer->customer.id;
  sync.sync_from_chat(agent_a, chat("t-2", "tech-a", "", "tess@example.com", "again"));
  lifecycle.update_lifecycle_stage(agent_a, id, LifecycleStage::kCustomer);
  auto other = repo.create_customer(agent_a, person("Tess Duplicate"));
  owner_exec("INSERT INTO customer_merge_log (company_id, source_customer_id, target_customer_id, source_snapshot, "
             "target_snapshot) VALUES ('" + company_a + "', '" + other.id + "', '" + id + "', '{}', '{}')");

  auto whole = lifecycle.get_customer_timeline(agent_a, id, 500);
  std::multiset<std::string> kinds;
  for (const auto& e : whole.items) kinds.insert(e.kind + ":" + e.type);
  EXPECT_EQ(kinds.count("conversation:conversation"), 2u);
  EXPECT_EQ(kinds.count("merge:merged_from"), 1u);
  EXPECT_EQ(kinds.count("event:created"), 1u);
  EXPECT_EQ(kinds.count("event:stage_changed"), 1u);
  for (std::size_t i = 1; i < whole.items.size(); ++i) {
    EXPECT_GE(whole.items[i - 1].at, whole.items[i].at) << "newest first";
  }
  std::vector<std::string> paged;
  std::optional<std::string> cursor;
  for (int guard = 0; guard < 50; ++guard) {
    auto page = lifecycle.get_customer_timeline(agent_a, id, 2, cursor);
    for (const auto& e : page.items) paged.push_back(e.kind + e.id);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  std::vector<std::string> expected;
  for (const auto& e : whole.items) expected.push_back(e.kind + e.id);
  EXPECT_EQ(paged, expected);
  EXPECT_THROW(lifecycle.get_customer_timeline(agent_b, id), domain::NotFoundError);
  EXPECT_THROW(lifecycle.get_customer_timeline(agent_a, id, 10, std::string("bogus")), domain::ValidationError);
}

}  // namespace
