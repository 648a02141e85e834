#include <gtest/gtest.h>

#include <algorithm>

#include "domain/duplicate_scoring.hpp"
#include "domain/planted_duplicates.hpp"

namespace {
using namespace tradesphere::domain;

PreparedRecord rec(const std::string& id, std::optional<std::string> name, std::optional<std::string> email,
                   std::optional<std::string> phone, std::optional<std::string> address = std::nullopt) {
  return prepare({id, std::nullopt, std::move(name), std::move(email), std::move(phone), std::move(address)});
}

bool has_reason(const PairScore& s, const std::string& r) {
  return std::find(s.reasons.begin(), s.reasons.end(), r) != s.reasons.end();
}

TEST(DuplicateScoring, StrongIdentifierOutweighsCommonName) {
  auto same_email = score_pair(rec("a", "Jon Smith", "j.smith@x.com", std::nullopt),
                               rec("b", "John Smith", "jsmith@x.com", std::nullopt));
  EXPECT_GE(same_email.score, 0.95);
  EXPECT_TRUE(has_reason(same_email, "email"));
  auto name_only = score_pair(rec("a", "John Smith", std::nullopt, std::nullopt),
                              rec("b", "John Smith", std::nullopt, std::nullopt));
  EXPECT_LT(name_only.score, ScoringConfig{}.threshold);
  auto strangers = score_pair(rec("a", "John Smith", "john@a.com", "415 555 0100"),
                              rec("b", "John Smith", "smithy@b.com", "212 555 0199"));
  EXPECT_LT(strangers.score, 0.05);
}

TEST(DuplicateScoring, FamilyMembersAtOneAddressAreNotDuplicates) {
  auto s = score_pair(rec("a", "Mary Jones", "mary@x.com", "415-555-0100", "12 Oak Street, Salem"),
                      rec("b", "Peter Jones", std::nullopt, "(415) 555 0100", "12 Oak St Salem"));
  EXPECT_LT(s.score, ScoringConfig{}.threshold);
}

TEST(DuplicateScoring, ScoreIsInUnitIntervalWithReasons) {
  auto s = score_pair(rec("a", "Smith, Robert", "bob@x.com", "+1 415 555 0100", "1 Main St"),
                      rec("b", "Bob Smith", "BOB@x.com", "4155550100", "1 Main Street"));
  EXPECT_GT(s.score, 0.999);
  EXPECT_LE(s.score, 1.0);
  EXPECT_TRUE(has_reason(s, "email"));
  EXPECT_TRUE(has_reason(s, "phone"));
  EXPECT_TRUE(has_reason(s, "name"));
}

TEST(DuplicateScoring, GroupsAreConnectedComponentsWithoutDismissedPairs) {
  std::vector<PreparedRecord> r{rec("a", "Ann Lee", "ann@x.com", std::nullopt),
                                rec("b", "Ann Lee", "ann@x.com", "415 555 0100"),
                                rec("c", "Anne Lee", std::nullopt, "4155550100"),
                                rec("d", "Zed Zulu", "zed@y.com", std::nullopt)};
  auto pairs = find_scored_pairs(r, {});
  auto groups = group_duplicates(r, pairs);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].members, (std::vector<std::size_t>{0, 1, 2}));
  auto dismissed = group_duplicates(r, pairs, {{"b", "c"}});
  ASSERT_EQ(dismissed.size(), 1u);
  EXPECT_EQ(dismissed[0].members, (std::vector<std::size_t>{0, 1}));
}

TEST(DuplicateScoring, EvaluatorCountsPairs) {
  auto q = evaluate_groups({{"a", "b", "c"}}, {{"a", "b"}, {"c", "d"}});
  EXPECT_EQ(q.true_positives, 1u);
  EXPECT_EQ(q.false_positives, 2u);
  EXPECT_EQ(q.false_negatives, 1u);
}

TEST(DuplicateScoring, PlantedGeneratorIsDeterministic) {
  auto a = generate_planted_duplicates({300, 0.3, 2, 0.1, 7});
  auto b = generate_planted_duplicates({300, 0.3, 2, 0.1, 7});
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) EXPECT_EQ(a.records[i].name, b.records[i].name);
  EXPECT_GT(a.records.size(), 300u);
  EXPECT_FALSE(a.truth.empty());
}

// The quality target of issue 6 at the default threshold.
TEST(DuplicateScoring, PlantedDuplicatesMeetPrecisionAndRecallTargets) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto data = generate_planted_duplicates({3000, 0.3, 2, 0.1, seed});
    std::vector<PreparedRecord> records;
    for (const auto& m : data.records) records.push_back(prepare(m));
    auto groups = group_duplicates(records, find_scored_pairs(records, {}));
    std::vector<std::vector<std::string>> reported;
    for (const auto& g : groups) {
      reported.emplace_back();
      for (auto i : g.members) reported.back().push_back(records[i].input.id);
    }
    auto q = evaluate_groups(reported, data.truth);
    EXPECT_GE(q.precision, 0.95) << "seed " << seed << " tp " << q.true_positives << " fp " << q.false_positives;
    EXPECT_GE(q.recall, 0.90) << "seed " << seed << " tp " << q.true_positives << " fn " << q.false_negatives;
    std::printf("seed %llu: records %zu precision %.4f recall %.4f f1 %.4f\n",
                static_cast<unsigned long long>(seed), records.size(), q.precision, q.recall, q.f1);
  }
}

}  // namespace
