// Probabilistic record linkage for duplicate customers (issue 13,
// docs/duplicates.md): a Fellegi-Sunter model whose m/u probabilities are
// estimated from the company's own records by expectation maximisation, with
// term-frequency adjustment of exact agreements (sharing a rare surname is
// strong evidence, sharing "smith" is weak). Pure and thread-safe: no I/O.
//
//   parse_match_fields()  raw name/email/phone/address -> comparison values
//   compare()             two records -> one level per comparison (a pattern)
//   train_model()         EM over the patterns of the candidate pairs
//   score()               pattern + term frequencies -> match weight, probability
//                         and the evidence (which comparison added how many bits)
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::domain {

// What the model compares, parsed once per record.
struct MatchFields {
  std::string given;          // first name token, nickname-canonical ("bob" -> "robert"); "" when unknown
  std::string given_raw;      // first name token as written (folded)
  std::string surname;        // last name token ("" when the name has none)
  std::string surname_joined; // every token after the first, joined ("wh iteq" -> "whiteq")
  std::string name_key;       // every token, sorted and joined: equal for "John Smith" and "Smith John"
  bool single_name = false;   // the name had one token (stored in surname; may be a given name)
  std::string email_key;      // normalized email key ("" when none or invalid)
  std::string email_text;     // lower-cased trimmed raw email, kept for fuzzy comparison even when invalid
  std::string phone_key;      // last 10 digits ("" when fewer than 7)
  std::string house_number;   // first token with a digit of the street part
  std::string street;         // street words with types expanded ("boddington crescent")
  std::string locality;       // town / suburb / city ("" when unknown)
  std::string postcode;       // 4-6 digit or UK-style postcode ("" when none)

  // Derived once per record by parse_match_fields: the scan compares millions of
  // pairs, and each of these used to be recomputed (and allocated) for every pair.
  std::string email_local;        // email_text before the '@' (all of it without one)
  std::string email_domain;       // email_text from the '@' on ("" without one)
  std::string email_local_digits; // the digits of email_local ("john.smith2" -> "2")
  bool mailbox_is_name = false;   // email_local only spells this record's name ("jsmith")
  // The given name the mailbox spells when the name has only an initial: "A. Lopez"
  // <anthony.lopez@...> is Anthony ("" when the name is not an initial, or the
  // mailbox is not exactly that initial's name beside the surname).
  std::string mailbox_given;
  std::string address_term;       // house_number + " " + street: the address's frequency term
  std::string street_name;        // street without its last word, when that word is a street type
  std::string street_kind;        // that street type ("" when the street has none)
  // A hash of every value above that the comparisons read. A pair is always
  // compared from the side with the lower hash (compared_first): a few
  // comparisons and the term-frequency adjustment read one side, and comparing
  // from whichever record came first made the result depend on the order the
  // records arrived in (splink1000 F1 0.951 in file order, 0.943 reversed).
  std::uint64_t content = 0;
};
// True when a pair (a, b) is compared as it is, false when as (b, a).
inline bool compared_first(const MatchFields& a, const MatchFields& b) { return a.content <= b.content; }

// "street", "avenue", "crescent", ... (after abbreviations are expanded)
bool street_type(const std::string& word);

MatchFields parse_match_fields(const std::optional<std::string>& name, const std::optional<std::string>& email,
                               const std::optional<std::string>& phone, const std::optional<std::string>& address);

// ---- comparisons -------------------------------------------------------------

enum Comparison : int { kGiven = 0, kSurname, kEmail, kPhone, kAddress, kComparisonCount };
inline constexpr int kMaxLevels = 8;  // level 0 = "null" (a value missing on either side): no evidence

struct ComparisonSpec {
  const char* name;                      // "given_name"
  std::vector<const char*> level_labels; // index 0 = null
};
const std::array<ComparisonSpec, kComparisonCount>& comparison_specs();

// One level per comparison; packed into 3 bits each for pattern counting.
struct ComparisonVector {
  std::array<std::uint8_t, kComparisonCount> level{};
  bool swapped_names = false;  // given/surname matched crosswise ("Smith John" vs "John Smith")
  std::uint32_t pattern() const;
  static ComparisonVector from_pattern(std::uint32_t pattern);
};

ComparisonVector compare(const MatchFields& a, const MatchFields& b);

// ---- parameters --------------------------------------------------------------

// Term frequencies of the values that exact agreements are adjusted by.
// Only values seen at least twice are kept (at most max_terms per comparison);
// an unknown value counts once.
// Slots: one per comparison (kAddress: the street line), then postcode and locality.
inline constexpr int kPostcodeSlot = kComparisonCount;
inline constexpr int kLocalitySlot = kComparisonCount + 1;
inline constexpr int kTermSlots = kComparisonCount + 2;
struct TermFrequencies {
  std::size_t records = 0;
  std::array<std::size_t, kTermSlots> present{};  // records holding a value
  std::array<std::unordered_map<std::string, std::uint32_t>, kTermSlots> counts;
  // sum over values of (count/present)^2: the chance two records holding values agree by chance
  std::array<double, kTermSlots> random_agreement{};
  double frequency(int slot, const std::string& value) const;  // count/present; an unknown value counts once
};
// The slot and value whose frequency adjusts an agreement at `level` (slot -1: no adjustment).
// The value points into `a` (nullptr with slot -1).
std::pair<int, const std::string*> tf_value(int comparison, int level, const MatchFields& a);
TermFrequencies count_terms(const std::vector<const MatchFields*>& records, std::size_t max_terms = 5000);

inline constexpr double kDefaultGivenDiffersGuard = -2;  // bits: probability 0.2

struct MatchModel {
  // m[c][l]: P(level l | same person), u[c][l]: P(level l | different people),
  // for l >= 1 (level 0 carries no evidence). Each row sums to 1 over l >= 1.
  std::array<std::array<double, kMaxLevels>, kComparisonCount> m{}, u{};
  double prior_log2_odds = -10;  // log2 odds that a candidate pair is the same person
  double tf_weight_cap = 6;      // |term-frequency adjustment| <= cap bits
  // weight ceiling when given names differ and no email is shared: -2 bits by
  // default, higher when the company's pairs show few households (household_ceiling)
  double given_differs_guard = kDefaultGivenDiffersGuard;
  TermFrequencies tf;
  // how the parameters were obtained
  std::string source = "priors";  // "priors" | "em"
  std::size_t trained_records = 0, trained_pairs = 0, em_iterations = 0;
  bool em_converged = false;

  double level_weight(int comparison, int level) const;  // log2(m/u) bits
};

// Sensible priors for a company with too few records to estimate from.
MatchModel default_model();

struct TrainOptions {
  std::size_t max_iterations = 60;
  double tolerance = 1e-6;
  std::size_t min_records = 100;      // below: priors (with the company's term frequencies)
  std::size_t min_pairs = 200;        // candidate pairs below: priors
  // m of "given names differ" stays at this value during EM. Without it EM takes
  // households (same surname, address and landline, different given names) for
  // the match class: conditional independence does not hold inside a family.
  double given_differs_m = 0.06;
  // pairs with one surname and one street address (given names compared) needed
  // to estimate how many of them are households; fewer: the default guard
  double min_household_pairs = 50;
  // The most a list's own copies garble a given name beyond recognition (the
  // share of one person's pairs whose given names "differ"): "differs" pairs up
  // to this share of the agreeing ones are taken for copies, the rest for
  // households. A bound, not an estimate: FEBRL's lists have 0.09-0.14 "differs"
  // pairs per agreeing pair (below 0.12/0.88 = 0.136 or just above it); a
  // name+address list with families at 5 % of its people has more (docs/duplicates.md).
  double household_copy_share = 0.12;
};
// One surname (exact or one slip) at one street address: where a household lives.
bool same_home(const ComparisonVector& v);
// The ceiling of the given-name guard for same-home pairs, from the counts of the
// candidate pairs' patterns (MatchModel::given_differs_guard; docs/duplicates.md).
double household_ceiling(const std::unordered_map<std::uint32_t, std::size_t>& pattern_counts,
                         const TrainOptions& options = {});
// EM on the candidate pairs' comparison vectors (Fellegi-Sunter latent classes,
// conditional independence); random pairs of `records` estimate the u of levels
// that blocking makes rare among non-matches. `patterns` are the candidate
// pairs' ComparisonVector::pattern() values.
MatchModel train_model(const std::vector<const MatchFields*>& records, const std::vector<std::uint32_t>& patterns,
                       const TrainOptions& options = {});
// The same EM on explicit patterns with known starting values (unit tests).
struct EmResult {
  std::array<std::array<double, kMaxLevels>, kComparisonCount> m{}, u{};
  double lambda = 0;
  std::size_t iterations = 0;
  bool converged = false;
};
EmResult expectation_maximisation(const std::unordered_map<std::uint32_t, std::size_t>& pattern_counts,
                                  const MatchModel& start, double start_lambda, const TrainOptions& options = {});

// ---- scoring -----------------------------------------------------------------

struct Evidence {
  std::string comparison;  // "surname"
  std::string level;       // "exact", "jaro-winkler >= 0.92", "differs"
  double weight = 0;       // bits this comparison added (term frequency included)
  std::string detail;      // e.g. "rare value", "common value"
};

struct MatchScore {
  double weight = 0;       // total log2 odds, prior included
  double probability = 0;  // 1 / (1 + 2^-weight)
  std::vector<Evidence> evidence;  // every non-null comparison, strongest first
  std::vector<std::string> reasons;  // short labels of agreeing fields ("email", "surname", "address~")
};

MatchScore score(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v);
// score(...).weight without the evidence (exactly the same double): for filtering
// millions of candidate pairs before building the evidence of the few that match.
double match_weight(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v);
// The term-frequency adjustment of each slot for one record's values (what an
// exact agreement on them adds), computed once per record by the scan instead of
// a hash lookup per candidate pair; match_weight() with them is the same double.
using TermAdjustments = std::array<double, kTermSlots>;
TermAdjustments term_adjustments(const MatchModel& model, const MatchFields& a);
double match_weight(const MatchModel& model, const MatchFields& a, const MatchFields& b, const ComparisonVector& v,
                    const TermAdjustments& adj_a);
// Every level's log2(m/u), computed once per scan instead of five log2 per
// candidate pair; match_weight() with them is the same double again.
using LevelWeights = std::array<std::array<double, kMaxLevels>, kComparisonCount>;
LevelWeights level_weights(const MatchModel& model);
double match_weight(const MatchModel& model, const LevelWeights& weights, const MatchFields& a, const MatchFields& b,
                    const ComparisonVector& v, const TermAdjustments& adj_a);
inline double match_probability(double weight) { return 1.0 / (1.0 + std::exp2(-weight)); }
// match_probability(weight) >= threshold, without an exp2 for the weights clearly
// on either side of the threshold's weight (the probability rises with the weight)
class ProbabilityAtLeast {
 public:
  explicit ProbabilityAtLeast(double threshold);
  bool operator()(double weight) const {
    if (weight < below_) return false;
    if (weight > above_) return true;
    return match_probability(weight) >= threshold_;
  }

 private:
  double threshold_, below_, above_;
};
inline MatchScore score(const MatchModel& model, const MatchFields& a, const MatchFields& b) {
  return score(model, a, b, compare(a, b));
}
// "surname exact +7.2, postcode +5.9, given name jaro-winkler >= 0.92 +3.1, phone differs -2.0"
std::string explain(const std::vector<Evidence>& evidence);

nlohmann::json to_json(const MatchModel& model, bool with_terms = true);
MatchModel model_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Evidence& e);
Evidence evidence_from_json(const nlohmann::json& j);

}  // namespace tradesphere::domain
