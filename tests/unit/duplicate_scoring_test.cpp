#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "domain/duplicate_scoring.hpp"
#include "devdata/planted_duplicates.hpp"

namespace {
using namespace tradesphere::domain;
using tradesphere::devdata::generate_planted_duplicates;

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
  bool guarded = false;
  for (const auto& e : s.evidence) guarded = guarded || e.comparison == "guard";
  EXPECT_TRUE(guarded) << explain(s.evidence);
}

TEST(DuplicateScoring, OneMailboxMistypedOutweighsTheHouseholdGuard) {
  auto guarded = [](const PairScore& s) {
    return std::any_of(s.evidence.begin(), s.evidence.end(), [](const Evidence& e) { return e.comparison == "guard"; });
  };
  // family members' mailboxes spell their names and are one edit apart: still two people
  auto family = score_pair(rec("a", "Mary Jones", "mjones@x.com", std::nullopt, "12 Oak Street, Salem"),
                           rec("b", "Peter Jones", "pjones@x.com", std::nullopt, "12 Oak Street, Salem"));
  EXPECT_TRUE(guarded(family)) << explain(family.evidence);
  EXPECT_LT(family.score, ScoringConfig{}.threshold);
  // one person's own mailbox mistyped (it does not spell the name): no household explains that
  auto typo = score_pair(rec("a", "ganL Nicholson", "longdebrm@ixon.coa", std::nullopt, "Glasgow"),
                         rec("b", "Logan Nicholson", "longdebra@dixon.com", std::nullopt, "Glasgow"));
  EXPECT_FALSE(guarded(typo)) << explain(typo.evidence);
}

TEST(DuplicateScoring, ScoreIsInUnitIntervalWithReasonsAndEvidence) {
  auto s = score_pair(rec("a", "Smith, Robert", "bob@x.com", "+1 415 555 0100", "1 Main St"),
                      rec("b", "Bob Smith", "BOB@x.com", "4155550100", "1 Main Street"));
  EXPECT_GT(s.score, 0.999);
  EXPECT_LE(s.score, 1.0);
  EXPECT_TRUE(has_reason(s, "email"));
  EXPECT_TRUE(has_reason(s, "phone"));
  EXPECT_TRUE(has_reason(s, "surname"));
  ASSERT_FALSE(s.evidence.empty());
  // strongest first, and the total weight is the prior plus every piece of evidence
  for (std::size_t i = 1; i < s.evidence.size(); ++i)
    EXPECT_GE(std::abs(s.evidence[i - 1].weight), std::abs(s.evidence[i].weight));
  double sum = default_model().prior_log2_odds;
  for (const auto& e : s.evidence) sum += e.weight;
  EXPECT_NEAR(sum, s.weight, 1e-9);
  auto text = explain(s.evidence);
  EXPECT_NE(text.find("email exact +"), std::string::npos) << text;
  EXPECT_NE(text.find("given name nickname +"), std::string::npos) << text;
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

// Lists nobody designed for us (issue 13, "bad input"): a clear answer, no crash,
// no quadratic work.
TEST(DuplicateScoring, HostileListsGetAnAnswerWithoutQuadraticWork) {
  EXPECT_TRUE(scan_duplicates({}, {}).pairs.empty()) << "an empty company";
  EXPECT_TRUE(scan_duplicates({rec("a", "Ann Lee", "ann@x.io", std::nullopt)}, {}).pairs.empty()) << "one record";

  // names only: the same full name twice is not enough evidence, and nothing throws
  std::vector<PreparedRecord> names;
  for (int i = 0; i < 300; ++i) names.push_back(rec("n" + std::to_string(i), "Person" + std::to_string(i % 150) + " Smith",
                                                    std::nullopt, std::nullopt));
  for (const auto& p : scan_duplicates(names, {}).pairs) EXPECT_LT(p.score.score, 0.99);

  // 10,000 records sharing one email: the block is skipped and reported, not
  // compared pairwise (50M pairs)
  std::vector<PreparedRecord> shared;
  for (int i = 0; i < 10000; ++i)
    shared.push_back(rec("s" + std::to_string(i), "Given" + std::to_string(i) + " Family" + std::to_string(i % 997),
                         "Info@Example.COM", std::nullopt));
  const auto scan = scan_duplicates(shared, {});
  EXPECT_LT(scan.candidate_pairs, 1000000u);
  auto email = std::find_if(scan.blocking.begin(), scan.blocking.end(), [](const auto& r) { return r.rule == "email"; });
  ASSERT_NE(email, scan.blocking.end());
  EXPECT_EQ(email->skipped_blocks, 1u);
  EXPECT_EQ(email->largest_skipped, 10000u);

  // non-Latin scripts: the same person written twice is found, different people are not
  std::vector<PreparedRecord> scripts = {
      rec("c1", "Иван Петров", "ivan.petrov@mail.ru", "+7 495 123-45-67"),
      rec("c2", "ИВАН ПЕТРОВ", "Ivan.Petrov@mail.ru", "8 (495) 123 45 67"),
      rec("z1", "王伟", "wangwei@qq.com", "+86 10 1234 5678"),
      rec("z2", "王伟", "wangwei@qq.com", std::nullopt),
      rec("a1", "محمد علي", "m.ali@example.com", std::nullopt),
      rec("a2", "فاطمة حسن", "f.hassan@example.com", std::nullopt),
  };
  std::set<std::pair<std::string, std::string>> found;
  for (const auto& p : scan_duplicates(scripts, {}).pairs) found.insert({scripts[p.a].input.id, scripts[p.b].input.id});
  EXPECT_TRUE(found.count({"c1", "c2"}));
  EXPECT_TRUE(found.count({"z1", "z2"}));
  EXPECT_FALSE(found.count({"a1", "a2"}));

  // absurdly long values (100k characters) are compared, not crashed on
  const std::string huge(100000, 'x');
  auto long_pair = score_pair(rec("l1", "Al " + huge, "al@x.io", std::nullopt, huge + " Street"),
                              rec("l2", "Al " + huge + "y", "al@x.io", std::nullopt, huge + " St"));
  EXPECT_GE(long_pair.score, 0.0);
  EXPECT_LE(long_pair.score, 1.0);
}

// The same list in another order (a company's customers come from the database
// in no fixed order) trains the same model, to the bit, and finds the same pairs
// with the same scores: pairs are compared from the side compared_first() picks
// and random pairs are drawn in the order of the records' contents.
TEST(DuplicateScoring, TheRecordsOrderChangesNeitherTheModelNorThePairs) {
  auto data = generate_planted_duplicates({1500, 0.3, 2, 0.1, 5});
  std::vector<PreparedRecord> forward, backward;
  for (const auto& m : data.records) forward.push_back(prepare(m));
  backward.assign(forward.rbegin(), forward.rend());
  std::swap(backward[3], backward[backward.size() / 2]);
  const auto one = scan_duplicates(forward, {}), other = scan_duplicates(backward, {});
  ASSERT_EQ(one.model->source, "em");
  EXPECT_EQ(one.model->m, other.model->m);
  EXPECT_EQ(one.model->u, other.model->u);
  auto ids = [](const std::vector<PreparedRecord>& records, const DuplicateScan& scan) {
    std::map<std::pair<std::string, std::string>, double> out;
    for (const auto& p : scan.pairs) out[std::minmax(records[p.a].input.id, records[p.b].input.id)] = p.score.score;
    return out;
  };
  EXPECT_EQ(ids(forward, one), ids(backward, other));
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

// The quality targets of issue 13 at the default threshold, with the model
// trained on the data itself: precision >= 0.98 and recall >= 0.95 on the full
// generator and on its name+address-only variant (no email, no phone).
void expect_quality_targets(bool contact_fields) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto data = generate_planted_duplicates({3000, 0.3, 2, 0.1, seed, contact_fields});
    std::vector<PreparedRecord> records;
    for (const auto& m : data.records) records.push_back(prepare(m));
    auto groups = group_duplicates(records, find_scored_pairs(records, {}));
    std::vector<std::vector<std::string>> reported;
    for (const auto& g : groups) {
      reported.emplace_back();
      for (auto i : g.members) reported.back().push_back(records[i].input.id);
    }
    auto q = evaluate_groups(reported, data.truth);
    EXPECT_GE(q.precision, 0.98) << "seed " << seed << " tp " << q.true_positives << " fp " << q.false_positives;
    EXPECT_GE(q.recall, 0.95) << "seed " << seed << " tp " << q.true_positives << " fn " << q.false_negatives;
    std::printf("%s seed %llu: records %zu precision %.4f recall %.4f f1 %.4f\n",
                contact_fields ? "full" : "name+address", static_cast<unsigned long long>(seed), records.size(),
                q.precision, q.recall, q.f1);
  }
}

// The scan filters candidates by match_weight() and builds the evidence only for
// the pairs it keeps: that weight must be score()'s to the last bit, on every
// candidate pair of a trained model with term frequencies, or the scan would keep
// other pairs than the scoring explains.
TEST(DuplicateScoring, TheWeightAloneIsExactlyTheScoredWeightOnEveryCandidatePair) {
  for (const bool contact_fields : {true, false}) {
    auto data = generate_planted_duplicates({2000, 0.3, 2, 0.1, 11, contact_fields});
    std::vector<PreparedRecord> records;
    for (const auto& m : data.records) records.push_back(prepare(m));
    ScoringConfig all;
    all.threshold = 0;  // keep every candidate pair
    const auto scan = scan_duplicates(records, all);
    ASSERT_GT(scan.pairs.size(), 1000u);
    ASSERT_EQ(scan.pairs.size(), scan.candidate_pairs);
    ASSERT_EQ(scan.model->source, "em");
    std::size_t kept = 0;
    for (const auto& p : scan.pairs) {
      const auto& a = records[p.a].fields;
      const auto& b = records[p.b].fields;
      const auto v = compare(a, b);
      const auto full = score(*scan.model, a, b, v);
      ASSERT_EQ(match_weight(*scan.model, a, b, v), full.weight) << records[p.a].input.id << " " << records[p.b].input.id;
      ASSERT_EQ(match_weight(*scan.model, a, b, v, term_adjustments(*scan.model, a)), full.weight)
          << "with the record's precomputed adjustments";
      kept += full.probability >= ScoringConfig{}.threshold;
      ScoringConfig with_model;
      with_model.model = scan.model;
      const auto at_least = score_pair_at_least(records[p.a], records[p.b], with_model, 0.6);
      ASSERT_EQ(at_least.has_value(), full.probability >= 0.6);
      if (at_least) {
        EXPECT_EQ(at_least->score, score_pair(records[p.a], records[p.b], with_model).score);
      }
    }
    ScoringConfig by_default;
    by_default.model = scan.model;
    EXPECT_EQ(scan_duplicates(records, by_default).pairs.size(), kept);
    EXPECT_GT(kept, 100u);
  }
}

// The scan of a large company compares copies of the records laid out for memory
// locality: the pairs, their scores and evidence must be those of the records
// compared in place (with the same trained model and the same candidates).
TEST(DuplicateScoring, TheLocalityLayoutChangesNothingTheScanFinds) {
  auto data = generate_planted_duplicates({3000, 0.3, 2, 0.1, 5, true});
  std::vector<PreparedRecord> records;
  for (const auto& m : data.records) records.push_back(prepare(m));
  ScoringConfig in_place;
  in_place.threshold = 0.3;
  in_place.lay_out_from = std::numeric_limits<std::size_t>::max();
  ScoringConfig laid_out = in_place;
  laid_out.lay_out_from = 0;
  const auto a = scan_duplicates(records, in_place);
  const auto b = scan_duplicates(records, laid_out);
  ASSERT_GT(a.pairs.size(), 500u);
  ASSERT_EQ(a.pairs.size(), b.pairs.size());
  EXPECT_EQ(a.candidate_pairs, b.candidate_pairs);
  for (std::size_t i = 0; i < a.pairs.size(); ++i) {
    ASSERT_EQ(a.pairs[i].a, b.pairs[i].a);
    ASSERT_EQ(a.pairs[i].b, b.pairs[i].b);
    ASSERT_EQ(a.pairs[i].score.weight, b.pairs[i].score.weight);
    ASSERT_EQ(evidence_json(a.pairs[i].score), evidence_json(b.pairs[i].score));
  }
}

// FEBRL's kind of list: name and address only, no families, and copies whose
// given name was replaced by another. The household cap learned from the list
// (household_ceiling) finds those copies by surname and address; the same list
// with families keeps them apart (the generator's default family share).
TEST(DuplicateScoring, ReplacedGivenNamesAreFoundWhenTheListHasNoFamilies) {
  for (const double families : {0.0, 0.1}) {
    tradesphere::devdata::PlantedConfig config{3000, 0.3, 2, families, 21, false};
    config.replaced_given_share = 0.08;
    auto data = generate_planted_duplicates(config);
    std::vector<PreparedRecord> records;
    for (const auto& m : data.records) records.push_back(prepare(m));
    const auto scan = scan_duplicates(records, {});
    auto groups = group_duplicates(records, scan.pairs);
    std::vector<std::vector<std::string>> reported;
    for (const auto& g : groups) {
      reported.emplace_back();
      for (auto i : g.members) reported.back().push_back(records[i].input.id);
    }
    const auto q = evaluate_groups(reported, data.truth);
    std::printf("families %.2f: household cap %.2f bits, precision %.4f recall %.4f\n", families,
                scan.model->given_differs_guard, q.precision, q.recall);
    EXPECT_GE(q.precision, 0.98) << "families " << families;
    if (families == 0) {
      EXPECT_GT(scan.model->given_differs_guard, std::log2(0.6 / 0.4) + 1) << "no households: copies explain every other given name";
      EXPECT_GE(q.recall, 0.97);
    } else {
      EXPECT_LT(scan.model->given_differs_guard, std::log2(0.6 / 0.4)) << "families: the guard holds";
    }
  }
}

TEST(DuplicateScoring, PlantedDuplicatesMeetPrecisionAndRecallTargets) { expect_quality_targets(true); }
TEST(DuplicateScoring, NameAndAddressOnlyListMeetsPrecisionAndRecallTargets) { expect_quality_targets(false); }

}  // namespace
