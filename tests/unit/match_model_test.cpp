// Comparison levels, parsing, EM estimation, term frequencies and blocking of
// the duplicate model (domain/match_model.hpp, domain/match_blocking.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "domain/match_blocking.hpp"
#include "domain/match_model.hpp"

namespace {
using namespace tradesphere::domain;

MatchFields f(std::optional<std::string> name, std::optional<std::string> email = std::nullopt,
              std::optional<std::string> phone = std::nullopt, std::optional<std::string> address = std::nullopt) {
  return parse_match_fields(name, email, phone, address);
}
int level(const MatchFields& a, const MatchFields& b, Comparison c) { return compare(a, b).level[c]; }
std::string label(const MatchFields& a, const MatchFields& b, Comparison c) {
  return comparison_specs()[c].level_labels[static_cast<std::size_t>(level(a, b, c))];
}

TEST(MatchFields, ParsesFebrlUsUkAndTownOnlyAddresses) {
  auto febrl = f("emily wynne", {}, {}, "51 bungonia street, glenbrae, burringbar, 2210 sa");
  EXPECT_EQ(febrl.house_number, "51");
  EXPECT_EQ(febrl.street, "bungonia street");
  EXPECT_EQ(febrl.locality, "burringbar");
  EXPECT_EQ(febrl.postcode, "2210");
  EXPECT_EQ(febrl.given, "emily");
  EXPECT_EQ(febrl.surname, "wynne");

  auto us = f("Smith, Robert", {}, {}, "1558 Willow Ave, Fairview, IL 80176-1234");
  EXPECT_EQ(us.given, "robert");
  EXPECT_EQ(us.surname, "smith");
  EXPECT_EQ(us.street, "willow avenue");
  EXPECT_EQ(us.locality, "fairview");
  EXPECT_EQ(us.postcode, "80176");

  auto no_commas = f("x", {}, {}, "12 Main St Springfield 62704");
  EXPECT_EQ(no_commas.house_number, "12");
  EXPECT_EQ(no_commas.street, "main street");
  EXPECT_EQ(no_commas.locality, "springfield");
  EXPECT_EQ(no_commas.postcode, "62704");

  auto uk = f("x", {}, {}, "10 Downing Street, London SW1A 2AA");
  EXPECT_EQ(uk.postcode, "sw1a2aa");
  EXPECT_EQ(uk.locality, "london");

  auto unit_first = f("x", {}, {}, "Apt 4, 123 Main St, Springfield, IL 62704");
  EXPECT_EQ(unit_first.house_number, "123");
  EXPECT_EQ(unit_first.street, "main street");
  EXPECT_EQ(unit_first.locality, "springfield");
  auto unit_inline = f("x", {}, {}, "123 Main Street Apt 4B Springfield IL 62704");
  EXPECT_EQ(unit_inline.street, "main street");
  EXPECT_EQ(unit_inline.locality, "springfield");
  EXPECT_EQ(unit_inline.postcode, "62704");
  EXPECT_EQ(compare(unit_first, unit_inline).level[kAddress], 1);

  auto town = f("x", {}, {}, "Sheffield");
  EXPECT_EQ(town.locality, "sheffield");
  EXPECT_TRUE(town.street.empty());
}

TEST(MatchFields, DerivesTheValuesEveryComparisonUsesOnce) {
  auto r = f("John Smith", " John.Smith2@Example.COM ", {}, "12 Park Ave, Springfield");
  EXPECT_EQ(r.email_local, "johnsmith2");  // the email key: dots of the local part dropped
  EXPECT_EQ(r.email_domain, "@example.com");
  EXPECT_EQ(r.email_local_digits, "2");
  EXPECT_TRUE(r.mailbox_is_name);  // the letters spell the name; the digit is compared apart
  EXPECT_EQ(r.address_term, "12 park avenue");
  EXPECT_EQ(r.street_name, "park");
  EXPECT_EQ(r.street_kind, "avenue");

  auto other = f("John Smith", "sales@example.com", {}, "Springfield");
  EXPECT_FALSE(other.mailbox_is_name);
  EXPECT_EQ(other.email_local_digits, "");
  EXPECT_EQ(other.address_term, "");
  EXPECT_EQ(other.street_kind, "");

  auto no_at = f("Ann Lee", "not-an-email", {}, "The Old Mill");
  EXPECT_EQ(no_at.email_local, "not-an-email");
  EXPECT_EQ(no_at.email_domain, "");
  EXPECT_EQ(no_at.street_kind, "");  // "mill" is not a street type: compared whole
  EXPECT_TRUE(f("Jon Smith", "jsmtih@x.org").mailbox_is_name);  // one typo
}

TEST(MatchFields, NamesKeepOrderDropTitlesAndHandleOneToken) {
  auto m = f("Dr. Bob  O'Brien Jr");
  EXPECT_EQ(m.given_raw, "bob");
  EXPECT_EQ(m.given, "robert");
  EXPECT_EQ(m.surname, "obrien");
  auto one = f("collinson");
  EXPECT_TRUE(one.single_name);
  EXPECT_EQ(one.surname, "collinson");
  EXPECT_TRUE(one.given.empty());
  auto blank = f("  ");
  EXPECT_TRUE(blank.surname.empty());
  auto cyrillic = f("Дмитрий Иванов");  // no crash, tokens kept
  EXPECT_FALSE(cyrillic.surname.empty());
  // absurdly long fields: compared values are capped, so comparisons stay cheap
  auto huge = f(std::string(100000, 'a') + " " + std::string(100000, 'b'), std::string(5000, 'x') + "@y.com", {},
                std::string(100000, 'c') + " street, " + std::string(100000, 'd'));
  EXPECT_EQ(huge.surname.size(), 64u);
  EXPECT_LE(huge.email_text.size(), 254u);
  EXPECT_LE(huge.street.size(), 128u);
  EXPECT_LE(huge.locality.size(), 128u);
  EXPECT_EQ(compare(huge, huge).level[kSurname], 1);
}

TEST(MatchComparisons, NameLevels) {
  EXPECT_EQ(label(f("John Smith"), f("John Smith"), kGiven), "exact");
  EXPECT_EQ(label(f("Bob Smith"), f("Robert Smith"), kGiven), "nickname");
  EXPECT_EQ(label(f("Jonathan Smith"), f("Jonathon Smith"), kGiven), "jaro-winkler >= 0.92");
  EXPECT_EQ(label(f("J. Smith"), f("John Smith"), kGiven), "initial");
  EXPECT_EQ(label(f("Mary Smith"), f("Peter Smith"), kGiven), "differs");
  // two neighbours swapped in a short name (Jaro-Winkler alone: 0.6, "differs")
  EXPECT_EQ(label(f("Aym Dudley"), f("Amy Dudley"), kGiven), "jaro-winkler >= 0.92");
  EXPECT_NE(label(f("Jan Dudley"), f("Jon Dudley"), kGiven), "jaro-winkler >= 0.92") << "another name, not a typo";
  // a letter left out of a short name is a typo; one letter replaced is another name
  EXPECT_EQ(label(f("Ay Davis"), f("Amy Davis"), kGiven), "jaro-winkler >= 0.92");
  EXPECT_EQ(label(f("Amy Davis"), f("Am Davis"), kGiven), "jaro-winkler >= 0.92");
  EXPECT_EQ(label(f("Tim Davis"), f("Tom Davis"), kGiven), "differs");
  EXPECT_NE(label(f("Al Davis"), f("Alan Davis"), kGiven), "jaro-winkler >= 0.92") << "two letters more: not a typo";
  // an initial whose mailbox spells the given name: compared as that name
  EXPECT_EQ(f("A. Lopez", "anthony.lopez@mail.com").mailbox_given, "anthony");
  EXPECT_EQ(f("A. Lopez", "lopez_anthony2@mail.com").mailbox_given, "anthony");
  EXPECT_EQ(f("A. Lopez", "alopez@mail.com").mailbox_given, "") << "only the initial";
  EXPECT_EQ(f("A. Lopez", "bob.lopez@mail.com").mailbox_given, "") << "not the initial's name";
  EXPECT_EQ(f("Amy Lopez", "anthony.lopez@mail.com").mailbox_given, "") << "the name is not an initial";
  EXPECT_EQ(label(f("A. Lopez", "ANTHONY.LOPEZ@MAIL.COM"), f("Amy Lopez", "amy.lopez@icloud.com"), kGiven), "differs");
  EXPECT_EQ(label(f("Amy Lopez"), f("A. Lopez", "anthony.lopez@mail.com"), kGiven), "differs");
  EXPECT_EQ(label(f("A. Lopez", "tony.lopez@mail.com"), f("Anthony Lopez"), kGiven), "initial") << "a nickname agrees";
  EXPECT_EQ(label(f("A. Lopez", "anthony.lopez@mail.com"), f("Anthony Lopez"), kGiven), "initial");
  EXPECT_EQ(label(f("A. Lopez", "alopez@mail.com"), f("Amy Lopez"), kGiven), "initial");
  EXPECT_EQ(label(f("John Smith"), f("John Smyth"), kSurname), "jaro-winkler >= 0.92");
  EXPECT_EQ(label(f("Timothy Cox"), f("Timothy Csx"), kSurname), "jaro-winkler >= 0.92");  // one edit, short name
  EXPECT_EQ(label(f("John Smith"), f("John Brown"), kSurname), "differs");
  // swapped order and "Last, First"
  auto swapped = compare(f("Smith John"), f("John Smith"));
  EXPECT_TRUE(swapped.swapped_names);
  EXPECT_EQ(swapped.level[kGiven], 1);
  EXPECT_EQ(swapped.level[kSurname], 1);
  EXPECT_EQ(label(f("Smith, John"), f("John Smith"), kSurname), "exact");
  // one part missing: the lone token is compared with the part it matches
  EXPECT_EQ(label(f("collinson"), f("mark collinson"), kSurname), "exact");
  EXPECT_EQ(level(f("collinson"), f("mark collinson"), kGiven), 0);
  EXPECT_EQ(label(f("Elijah"), f("Elijah James"), kGiven), "exact");
  // a surname split by a stray space
  EXPECT_EQ(label(f("joel wh iteq"), f("joel whiteq"), kSurname), "exact");
  EXPECT_EQ(level(f(std::nullopt), f("John"), kSurname), 0);
}

TEST(MatchComparisons, EmailAndPhoneLevels) {
  EXPECT_EQ(label(f("a", "J.Smith+crm@X.com"), f("b", "jsmith@x.com"), kEmail), "exact");
  EXPECT_EQ(label(f("a", "hensondebbie@garcia.com"), f("b", "hensondebbie@garcie.com"), kEmail), "one edit");
  EXPECT_EQ(label(f("a", "hensondrbbie@gaeia.com"), f("b", "hensondebbie@garcia.com"), kEmail),
            "two edits or same mailbox name");
  EXPECT_EQ(label(f("a", "anna@x.com"), f("b", "peter@y.org"), kEmail), "differs");
  // digits tell accounts apart; a mailbox spelling the owner's name on another domain adds nothing
  EXPECT_EQ(label(f("Gregory King", "gregoryking@gmail.com"), f("Gregory King", "gregoryking2@gmail.com"), kEmail), "differs");
  EXPECT_EQ(label(f("Gregory Lee", "gregorylee@yahoo.com"), f("Gregory Lee", "gregorylee@outlook.com"), kEmail), "differs");
  EXPECT_EQ(label(f("X", "lori88@huynh.biz"), f("Y", "lori88@huynh.org"), kEmail), "two edits or same mailbox name");
  // a malformed email is still compared as text
  EXPECT_EQ(label(f("a", "jonathn74@gloverc.om"), f("b", "jonathn74@gloverc.om"), kEmail), "exact");
  EXPECT_EQ(level(f("a"), f("b", "x@y.com"), kEmail), 0);

  EXPECT_EQ(label(f("a", {}, "+1 (415) 555-0100"), f("b", {}, "415.555.0100"), kPhone), "exact");
  EXPECT_EQ(label(f("a", {}, "415 555 0100"), f("b", {}, "212 555 0100"), kPhone), "same last 7 digits");
  EXPECT_EQ(label(f("a", {}, "415 555 0100"), f("b", {}, "415 555 0109"), kPhone), "one edit");
  EXPECT_EQ(label(f("a", {}, "415 555 0100"), f("b", {}, "212 777 9999"), kPhone), "differs");
  // one number, national (trunk 0) and international (country code): exact, and one block
  EXPECT_EQ(label(f("X", {}, "01 23 45 67 89"), f("Y", {}, "+33 1 23 45 67 89"), kPhone), "exact");
  EXPECT_EQ(label(f("X", {}, "030 1234567"), f("Y", {}, "+49 30 1234567"), kPhone), "exact");
  EXPECT_EQ(label(f("X", {}, "(02) 9876 5432"), f("Y", {}, "+61 2 9876 5432"), kPhone), "exact");
  EXPECT_NE(label(f("X", {}, "415 555 0100"), f("Y", {}, "315 555 0100"), kPhone), "exact") << "two North American numbers";
  auto phone_keys = [](const MatchFields& m) {
    std::vector<std::string> out;
    for (auto& k : blocking_keys(m))
      if (k.rule == 2) out.push_back(k.key);
    return out;
  };
  EXPECT_EQ(phone_keys(f("X", {}, "01 23 45 67 89")), phone_keys(f("Y", {}, "+33 1 23 45 67 89")));
  EXPECT_FALSE(phone_keys(f("X", {}, "01 23 45 67 89")).empty());
}

TEST(MatchComparisons, AddressLevels) {
  const std::string full = "8 boddington crescent, norma, illabo, 2261 nsw";
  EXPECT_EQ(label(f("a", {}, {}, full), f("b", {}, {}, "8 boddington cres, norma, illabo, 2261 nsw"), kAddress),
            "full address");
  EXPECT_EQ(label(f("a", {}, {}, full), f("b", {}, {}, "8 boddington crescent, elsewhere, 3000 vic"), kAddress),
            "number and street");
  EXPECT_EQ(label(f("a", {}, {}, full), f("b", {}, {}, "12 boddington crescent, illabo, 2261 nsw"), kAddress),
            "street and place");
  EXPECT_EQ(label(f("a", {}, {}, full), f("b", {}, {}, "3 other road, elsewhere, 2261 nsw"), kAddress), "postcode");
  EXPECT_EQ(label(f("a", {}, {}, "Sheffield"), f("b", {}, {}, "Sheffied"), kAddress), "locality");
  EXPECT_EQ(label(f("a", {}, {}, "Sheffield"), f("b", {}, {}, "London"), kAddress), "differs");
  EXPECT_EQ(level(f("a"), f("b", {}, {}, full), kAddress), 0);
}

TEST(MatchComparisons, PatternRoundTrip) {
  ComparisonVector v;
  v.level = {6, 4, 0, 3, 7};
  EXPECT_EQ(ComparisonVector::from_pattern(v.pattern()).level, v.level);
}

// EM recovers known parameters from patterns drawn from a two-class model.
TEST(MatchModelEm, RecoversKnownParameters) {
  MatchModel truth;
  for (auto& row : truth.m) row.fill(0);
  for (auto& row : truth.u) row.fill(0);
  const int levels[kComparisonCount] = {6, 4, 4, 4, 7};
  // matches: mostly exact; non-matches: mostly "differs" (the last level)
  for (int c = 0; c < kComparisonCount; ++c) {
    const int n = levels[c];
    for (int l = 1; l <= n; ++l) {
      truth.m[c][l] = l == 1 ? 0.8 : 0.2 / (n - 1);
      truth.u[c][l] = l == n ? 0.9 : 0.1 / (n - 1);
    }
  }
  const double lambda = 0.2;
  std::uint64_t state = 12345;
  auto uniform = [&] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  std::unordered_map<std::uint32_t, std::size_t> counts;
  for (int i = 0; i < 200000; ++i) {
    const bool match = uniform() < lambda;
    ComparisonVector v;
    for (int c = 0; c < kComparisonCount; ++c) {
      double x = uniform(), acc = 0;
      const auto& p = match ? truth.m[c] : truth.u[c];
      int l = 1;
      for (; l < levels[c]; ++l) {
        acc += p[l];
        if (x < acc) break;
      }
      v.level[c] = static_cast<std::uint8_t>(l);
    }
    ++counts[v.pattern()];
  }
  MatchModel start = default_model();
  TrainOptions options;
  options.given_differs_m = truth.m[kGiven][6];  // the constrained level starts at its true value
  options.max_iterations = 200;
  auto em = expectation_maximisation(counts, start, 0.1, options);
  EXPECT_NEAR(em.lambda, lambda, 0.01);
  for (int c = 0; c < kComparisonCount; ++c)
    for (int l = 1; l <= levels[c]; ++l) {
      EXPECT_NEAR(em.m[c][l], truth.m[c][l], 0.02) << "m c=" << c << " l=" << l;
      EXPECT_NEAR(em.u[c][l], truth.u[c][l], 0.02) << "u c=" << c << " l=" << l;
    }
}

TEST(MatchModelTraining, FewRecordsFallBackToPriors) {
  std::vector<MatchFields> data{f("Ann Lee"), f("Ann Lee", "ann@x.com")};
  std::vector<const MatchFields*> ptrs{&data[0], &data[1]};
  auto model = train_model(ptrs, {compare(data[0], data[1]).pattern()});
  EXPECT_EQ(model.source, "priors");
  EXPECT_EQ(model.tf.records, 2u);
  auto empty = train_model({}, {});
  EXPECT_EQ(empty.source, "priors");
}

// Pattern counts of same-home pairs: `agree` with the given name exact, `differ`
// with it different, plus pairs the estimate must not read.
std::unordered_map<std::uint32_t, std::size_t> home_pairs(std::size_t agree, std::size_t differ) {
  auto pattern = [](int given, int surname, int email, int address) {
    ComparisonVector v;
    v.level[kGiven] = static_cast<std::uint8_t>(given);
    v.level[kSurname] = static_cast<std::uint8_t>(surname);
    v.level[kEmail] = static_cast<std::uint8_t>(email);
    v.level[kAddress] = static_cast<std::uint8_t>(address);
    return v.pattern();
  };
  std::unordered_map<std::uint32_t, std::size_t> counts;
  counts[pattern(1, 1, 0, 1)] = agree;
  counts[pattern(6, 1, 0, 1)] = differ;
  counts[pattern(6, 1, 0, 4)] += 5000;  // same surname and postcode only: not a home
  counts[pattern(6, 4, 0, 1)] += 5000;  // another surname at the address: not a family
  counts[pattern(6, 1, 1, 1)] += 5000;  // a shared email: the guard never applies
  return counts;
}

TEST(MatchModelTraining, HouseholdCeilingComesFromTheCompanysSameHomePairs) {
  const double threshold_weight = std::log2(0.6 / 0.4);
  // FEBRL-like: a tenth of the same-home pairs have another given name (copies
  // whose given name was replaced), no more than copies explain
  EXPECT_GT(household_ceiling(home_pairs(1000, 100)), threshold_weight + 3);
  // a list with families: more "differs" pairs than agreeing ones
  EXPECT_DOUBLE_EQ(household_ceiling(home_pairs(1000, 1500)), kDefaultGivenDiffersGuard);
  // in between, the ceiling falls as households grow
  const double few = household_ceiling(home_pairs(1000, 250)), more = household_ceiling(home_pairs(1000, 400));
  EXPECT_GT(few, more);
  EXPECT_GT(more, kDefaultGivenDiffersGuard);
  // too few same-home pairs to tell: the default, whatever the rest says
  EXPECT_DOUBLE_EQ(household_ceiling(home_pairs(40, 0)), kDefaultGivenDiffersGuard);
  EXPECT_TRUE(same_home(compare(f("Ann Lee", std::nullopt, std::nullopt, "12 Oak Street, Salem, 97301"),
                                f("Bo Lee", std::nullopt, std::nullopt, "12 Oak St, Salem, 97301"))));
  EXPECT_FALSE(same_home(compare(f("Ann Lee", std::nullopt, std::nullopt, "12 Oak Street, Salem, 97301"),
                                 f("Bo Lee", std::nullopt, std::nullopt, "40 Elm Road, Salem, 97301"))));
}

TEST(MatchModelScoring, LearnedCeilingOpensOnlySameHomePairs) {
  MatchModel model = default_model();
  const auto caleb = f("caleb challenor", std::nullopt, std::nullopt, "1 wellington street, kinross farm, cronulla, 5109 vic");
  const auto nathan = f("nathan challenor", std::nullopt, std::nullopt, "1 wellington street, kinross farm, cronulla, 5109 vic");
  const auto moved = f("nathan challenor", std::nullopt, std::nullopt, "40 rumker place, huntington, woodcroft, 5109 vic");
  ASSERT_TRUE(same_home(compare(caleb, nathan)));
  ASSERT_FALSE(same_home(compare(caleb, moved)));
  auto guarded = [](const MatchScore& s) {
    return std::any_of(s.evidence.begin(), s.evidence.end(), [](const Evidence& e) { return e.comparison == "guard"; });
  };
  // the default: one home, two given names, two people
  auto home = score(model, caleb, nathan);
  EXPECT_DOUBLE_EQ(home.weight, kDefaultGivenDiffersGuard);
  EXPECT_TRUE(guarded(home)) << explain(home.evidence);
  // a company whose pairs show no households (and many duplicates: prior odds
  // 1:1): the same pair scores on its evidence
  model.given_differs_guard = 8;
  model.prior_log2_odds = 0;
  home = score(model, caleb, nathan);
  EXPECT_GT(home.weight, kDefaultGivenDiffersGuard);
  EXPECT_LE(home.weight, 8.0);
  EXPECT_DOUBLE_EQ(match_weight(model, caleb, nathan, compare(caleb, nathan)), home.weight);
  // ... but only at one address: elsewhere the default ceiling holds
  auto away = score(model, caleb, moved);
  EXPECT_LE(away.weight, kDefaultGivenDiffersGuard);
  EXPECT_TRUE(guarded(away)) << explain(away.evidence);  // its evidence alone would rise above it
  EXPECT_DOUBLE_EQ(match_weight(model, caleb, moved, compare(caleb, moved)), away.weight);
}

TEST(MatchModelTermFrequency, RareSurnameIsStrongerEvidenceThanCommonOne) {
  std::vector<MatchFields> data;
  for (int i = 0; i < 100; ++i) data.push_back(f("Person" + std::to_string(i) + " Smith"));
  for (int i = 0; i < 300; ++i) data.push_back(f("Someone Other" + std::to_string(i)));
  data.push_back(f("Anna Zwierzchowski"));
  data.push_back(f("Anna Zwierzchowski"));
  std::vector<const MatchFields*> ptrs;
  for (const auto& d : data) ptrs.push_back(&d);
  MatchModel model = default_model();
  model.tf = count_terms(ptrs);
  auto smith = score(model, f("Anna Smith"), f("Anna Smith"));
  auto rare = score(model, data[400], data[401]);
  EXPECT_GT(rare.weight, smith.weight + 3);
  auto text = explain(rare.evidence);
  EXPECT_NE(text.find("rare value"), std::string::npos) << text;
  EXPECT_NE(explain(smith.evidence).find("common value"), std::string::npos);
}

TEST(MatchModelJson, RoundTripKeepsParametersAndTerms) {
  std::vector<MatchFields> data{f("Ann Lee"), f("Ann Lee"), f("Bo Chan")};
  std::vector<const MatchFields*> ptrs{&data[0], &data[1], &data[2]};
  MatchModel model = default_model();
  model.tf = count_terms(ptrs);
  model.source = "em";
  model.m[kSurname][1] = 0.77;
  auto back = model_from_json(to_json(model));
  EXPECT_EQ(back.source, "em");
  EXPECT_DOUBLE_EQ(back.m[kSurname][1], 0.77);
  EXPECT_DOUBLE_EQ(back.prior_log2_odds, model.prior_log2_odds);
  EXPECT_DOUBLE_EQ(back.tf.frequency(kSurname, "lee"), model.tf.frequency(kSurname, "lee"));
  model.given_differs_guard = 5.5;  // learned from the company's same-home pairs
  EXPECT_DOUBLE_EQ(model_from_json(to_json(model)).given_differs_guard, 5.5);
  auto stored_before = to_json(model);  // a model stored before the ceiling was learned
  stored_before.erase("given_differs_guard");
  EXPECT_DOUBLE_EQ(model_from_json(stored_before).given_differs_guard, kDefaultGivenDiffersGuard);
  auto bad = to_json(model);
  bad["comparisons"][0]["levels"].erase(0);
  EXPECT_THROW(model_from_json(bad), std::invalid_argument);
}

TEST(MatchBlocking, SwappedNamesAndInitialsShareAKey) {
  auto keys = [](const MatchFields& m) {
    std::vector<std::string> out;
    for (auto& k : blocking_keys(m)) out.push_back(std::to_string(k.rule) + ":" + k.key);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto shares = [&](const MatchFields& a, const MatchFields& b) {
    auto ka = keys(a), kb = keys(b);
    std::vector<std::string> common;
    std::set_intersection(ka.begin(), ka.end(), kb.begin(), kb.end(), std::back_inserter(common));
    return !common.empty();
  };
  EXPECT_TRUE(shares(f("Smith John"), f("John Smith")));
  EXPECT_TRUE(shares(f("K. Martinez"), f("Kathleen Martinez")));
  EXPECT_TRUE(shares(f("caitkin", {}, {}, "rymill place, mount gravatt, 3146 vic"),
                     f("caitlin", {}, {}, "rymill place, mount gravatt, 3146 vic")));
  EXPECT_FALSE(shares(f("John Smith"), f("Peter Brown")));
  // a mistyped mailbox on a mistyped domain, under a scrambled given name
  EXPECT_TRUE(shares(f("ganL Nicholson", "longdebrm@ixon.coa"), f("Logan Nicholsno", "longdebra@dixon.com")));
  // the surname replaced and the postcode mistyped: the given name and the house number meet
  EXPECT_TRUE(shares(f("ethan callahan", {}, {}, "298 meyrickplace, tarragindi, 3961 nsw"),
                     f("ethan bartel", {}, {}, "298 meyrick place, bingletree, tarragindi, 3691 nsw")));
  EXPECT_FALSE(shares(f("ethan callahan", {}, {}, "298 meyrickplace, tarragindi, 3961 nsw"),
                      f("ethan bartel", {}, {}, "12 meyrick place, bingletree, tarragindi, 3691 nsw")));
  // a mailbox that spells its owner's name has no prefix key: "thomas" would pair every Thomas
  EXPECT_FALSE(shares(f("Thomas Roberts", "thomas.roberts@gmail.com"), f("Peter Brown", "thomasina.b@mail.com")));
  // names without Latin letters block by their own letters, not all together
  EXPECT_TRUE(shares(f("Дмитрий Иванов"), f("Дмитрий Иванов")));
  EXPECT_FALSE(shares(f("Дмитрий Иванов"), f("Ольга Петрова")));
}

TEST(MatchBlocking, OverLargeBlocksAreSkippedAndReported) {
  std::vector<MatchFields> data;
  for (int i = 0; i < 50; ++i) data.push_back(f("Person " + std::to_string(i), "shared@example.com"));
  std::vector<const MatchFields*> ptrs;
  for (const auto& d : data) ptrs.push_back(&d);
  auto c = candidate_pairs(ptrs, 20);
  auto email = std::find_if(c.rules.begin(), c.rules.end(), [](const auto& r) { return r.rule == "email"; });
  ASSERT_NE(email, c.rules.end());
  EXPECT_EQ(email->skipped_blocks, 1u);
  EXPECT_EQ(email->largest_skipped, 50u);
  EXPECT_EQ(email->pairs, 0u);
  auto small = candidate_pairs(ptrs, 1000);
  EXPECT_EQ(small.pairs.size(), 50u * 49u / 2u);
  for (const auto& [a, b] : small.pairs) EXPECT_LT(a, b);
}

// The stored index (migration 0022) must pair exactly what the whole-company scan
// pairs: j is a candidate of i when a stored hash of j is a lookup hash of i.
TEST(MatchBlocking, StoredHashesPairExactlyWhatTheScanPairs) {
  const std::vector<MatchFields> data = {
      f("John Smith", "john@example.com", "+1 415 555 0142", "12 Oak Street, Salem OR 97301"),
      f("Smith, John", {}, {}, "12 Oak St, Salem OR 97301"),
      f("J. Smith", {}, {}, "40 Pine Road, Eugene OR 97401"),
      f("J Smith", {}, {}, "3 Birch Lane, Bend OR 97701"),
      f("Kathleen Martinez", "kmartinez@example.org", {}, "7 Beach Parade, Victor Harbor SA 5211"),
      f("K. Martinez", {}, "+1 415 555 0142", {}),
      f("Peter Brown", "john@example.com", {}, {}),
      f("Дмитрий Иванов", {}, {}, {}),
      f("Дмитрий Иванов", {}, {}, {}),
      f("", {}, {}, {}),
      f("James Smith", {}, {}, {}),
  };
  std::vector<const MatchFields*> ptrs;
  for (const auto& d : data) ptrs.push_back(&d);
  std::set<std::pair<std::uint32_t, std::uint32_t>> scan;
  for (const auto& p : candidate_pairs(ptrs, 1000).pairs) scan.insert(p);
  std::vector<BlockingHashes> h;
  for (const auto& d : data) h.push_back(blocking_hashes("5d276ae7-8ea7-45ed-8286-f379f1238411", d));
  std::set<std::pair<std::uint32_t, std::uint32_t>> stored;
  for (std::uint32_t i = 0; i < data.size(); ++i)
    for (std::uint32_t j = 0; j < data.size(); ++j) {
      if (i == j) continue;
      std::vector<std::int64_t> common;
      std::set_intersection(h[i].lookup.begin(), h[i].lookup.end(), h[j].stored.begin(), h[j].stored.end(),
                            std::back_inserter(common));
      if (!common.empty()) stored.insert({std::min(i, j), std::max(i, j)});
    }
  EXPECT_EQ(stored, scan);
  EXPECT_EQ(scan.count({0, 1}), 1u) << "swapped name, same address";
  EXPECT_EQ(scan.count({0, 2}), 1u) << "a full name meets an initial that could stand for it";
  EXPECT_EQ(scan.count({7, 8}), 1u);
  EXPECT_EQ(scan.count({0, 9}) + scan.count({8, 9}), 0u) << "an empty record meets nothing";
}

TEST(MatchBlocking, StoredHashesAreStableAndPerCompany) {
  const auto rec = f("John Smith", "john@example.com", {}, "12 Oak Street, Salem OR 97301");
  const auto a = blocking_hashes("aaaaaaaa-0000-4000-8000-00000000000a", rec);
  const auto b = blocking_hashes("bbbbbbbb-0000-4000-8000-00000000000b", rec);
  ASSERT_FALSE(a.stored.empty());
  std::vector<std::int64_t> common;
  std::set_intersection(a.lookup.begin(), a.lookup.end(), b.stored.begin(), b.stored.end(), std::back_inserter(common));
  EXPECT_TRUE(common.empty()) << "one company's keys never meet another's";
  EXPECT_TRUE(std::is_sorted(a.stored.begin(), a.stored.end()));
  // Stored hashes outlive the process: the same input gives the same value in every
  // build (FNV-1a, not std::hash). A change of the rules or the hash fails here and
  // needs `tradesphere duplicates rebuild` on every company (say so in the notes).
  const auto email = blocking_hashes("aaaaaaaa-0000-4000-8000-00000000000a", f("", "john@example.com"));
  ASSERT_EQ(email.stored.size(), 2u);  // the address and its local part
  EXPECT_EQ(email.stored, (std::vector<std::int64_t>{7409450587565920148, 7960090774802230128}));
}

// The block sizes a rebuild stores (0025): every customer of one town shares the
// given-name + town key, so that block is counted once per customer; blocks at or
// under the threshold are not listed (the lookup reads them whole).
TEST(MatchBlocking, BlockSizesCountTheCustomersHoldingEachStoredHash) {
  const std::string co = "aaaaaaaa-0000-4000-8000-00000000000a";
  std::vector<std::int64_t> all;
  std::vector<BlockingHashes> each;
  for (int i = 0; i < 7; ++i) {
    each.push_back(blocking_hashes(co, f("John Smith" + std::string(1, static_cast<char>('a' + i)), {}, {},
                                         std::to_string(10 + i) + " Oak Street, Salem OR 97301")));
    all.insert(all.end(), each.back().stored.begin(), each.back().stored.end());
  }
  const auto large = blocks_larger_than(all, 5);
  ASSERT_FALSE(large.empty()) << "the keys all seven share";
  for (const auto& b : large) {
    EXPECT_EQ(b.size, 7u);
    for (const auto& h : each) EXPECT_TRUE(std::binary_search(h.stored.begin(), h.stored.end(), b.key));
  }
  EXPECT_TRUE(std::is_sorted(large.begin(), large.end(), [](const BlockSize& x, const BlockSize& y) { return x.key < y.key; }));
  EXPECT_EQ(blocks_larger_than(all, 7), std::vector<BlockSize>{}) << "a block of exactly the threshold is read whole";
  EXPECT_EQ(blocks_larger_than({3, 1, 3, 2, 3, 1}, 1), (std::vector<BlockSize>{{1, 2}, {3, 3}}));
  EXPECT_TRUE(blocks_larger_than({}, 0).empty());
}

}  // namespace

TEST(MatchModelThreshold, ProbabilityAtLeastAnswersAsTheProbabilityItself) {
  for (double threshold : {0.0, 0.5, 0.6, 0.9, 0.999, 1.0}) {
    const tradesphere::domain::ProbabilityAtLeast kept(threshold);
    const double at = threshold > 0 && threshold < 1 ? std::log2(threshold / (1 - threshold)) : 0;
    for (int i = -2000; i <= 2000; ++i) {
      // far from the threshold's weight and within a few ulps of it
      for (double w : {at + i * 0.01, std::nextafter(at, at + i), at + i * 1e-12, -60.0 + i * 0.03}) {
        ASSERT_EQ(kept(w), tradesphere::domain::match_probability(w) >= threshold) << threshold << " " << w;
      }
    }
  }
}

