#include <gtest/gtest.h>

#include <algorithm>

#include "domain/errors.hpp"
#include "domain/merge_plan.hpp"

namespace {
using namespace tradesphere::domain;

MergeRecord record(const std::string& id, std::optional<std::string> name, std::optional<std::string> email,
                   const std::string& source, const std::string& updated_at) {
  MergeRecord r;
  r.id = id;
  r.name = std::move(name);
  r.email = std::move(email);
  r.source = source;
  r.updated_at = updated_at;
  return r;
}

const FieldProposal& field(const std::vector<FieldProposal>& plan, const std::string& name) {
  return *std::find_if(plan.begin(), plan.end(), [&](const FieldProposal& p) { return p.field == name; });
}

TEST(MergePlan, PrefersUserEnteredOverChatDerived) {
  auto plan = plan_merge(record("t", "jane", std::nullopt, "chat", "2024-02"),
                         {record("s", "Jane Smith", std::nullopt, "manual", "2024-01")});
  const auto& name = field(plan, "name");
  EXPECT_TRUE(name.conflict);
  EXPECT_EQ(name.proposed, "Jane Smith");
  EXPECT_EQ(name.proposed_from, "s");
  EXPECT_EQ(name.reason, "user-entered over chat-derived");
}

TEST(MergePlan, LongestNameAndMostRecentEmail) {
  auto plan = plan_merge(record("t", "J Smith", "old@x.com", "manual", "2024-01"),
                         {record("s", "Jane Smith", "new@x.com", "import", "2024-03")});
  EXPECT_EQ(field(plan, "name").proposed, "Jane Smith");
  EXPECT_EQ(field(plan, "name").reason, "longest");
  EXPECT_EQ(field(plan, "email").proposed, "new@x.com");
  EXPECT_EQ(field(plan, "email").reason, "most recent non-empty");
}

TEST(MergePlan, OnlyValueAgreementNotesAndTags) {
  auto t = record("t", "A", std::nullopt, "manual", "1");
  t.notes = "first";
  t.tags = {"vip"};
  auto s = record("s", "A", "a@x.com", "manual", "2");
  s.notes = "second";
  s.tags = {"vip", "new"};
  s.lifecycle_stage = "customer";
  auto plan = plan_merge(t, {s});
  EXPECT_FALSE(field(plan, "name").conflict);
  EXPECT_EQ(field(plan, "name").reason, "all records agree");
  EXPECT_EQ(field(plan, "email").reason, "only non-empty value");
  EXPECT_EQ(field(plan, "notes").proposed, "first\n\nsecond");
  EXPECT_EQ(field(plan, "tags").proposed, "vip,new");
  EXPECT_EQ(field(plan, "lifecycle_stage").proposed, "customer");
}

TEST(MergePlan, ExplicitChoicesOverrideAndAreValidated) {
  auto t = record("t", "A", "a@x.com", "manual", "1");
  auto s = record("s", "B", "b@x.com", "manual", "2");
  auto out = resolve_merge(t, {s}, {{"email", "chosen@x.com"}, {"phone", std::nullopt}});
  EXPECT_EQ(out.email, "chosen@x.com");
  EXPECT_EQ(out.phone, std::nullopt);
  EXPECT_THROW(resolve_merge(t, {s}, {{"bogus", "x"}}), ValidationError);
  EXPECT_THROW(resolve_merge(t, {s}, {{"tags", "x"}}), ValidationError);
  EXPECT_THROW(resolve_merge(t, {s}, {{"lifecycle_stage", "done"}}), ValidationError);
}

}  // namespace
