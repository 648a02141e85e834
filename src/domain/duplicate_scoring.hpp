// Duplicate detection model (pure, unit-tested; docs/duplicates.md).
//
// 1. prepare(): per customer, normalized comparison values (name tokens with
//    nicknames canonicalized, email key without dots/+tags, last 10 phone digits,
//    expanded address tokens).
// 2. blocking_keys(): exact email key, phone key, sorted Soundex codes of the name
//    tokens, Soundex of each name token paired with the house number, and house
//    number + first street word. Only records sharing a key are compared; a key
//    shared by more than max_block_size records is skipped (too common to help).
// 3. score_pair(): Fellegi-Sunter style sum of log2(m/u) agreement weights per
//    field plus a prior (log-odds of a random pair being a match), turned into a
//    probability in [0,1] with the logistic function; reasons list what agreed.
// 4. group_duplicates(): pairs at or above the threshold (and not dismissed) are
//    joined into connected components.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tradesphere::domain {

struct MatchInput {
  std::string id;
  std::optional<std::string> external_id;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> address;
};

struct PreparedRecord {
  MatchInput input;
  std::vector<std::string> name_tokens;
  std::string email_key;
  std::string phone_key;
  std::vector<std::string> address_tokens;
  std::string house_number;  // first all-digit address token, "" when none
};

PreparedRecord prepare(const MatchInput& input);
std::vector<std::string> blocking_keys(const PreparedRecord& record);

// Weights in bits (log2 of m/u); docs/duplicates.md explains the values.
struct ScoringConfig {
  double prior = -8.0;                // log2 odds that two records sharing a block are the same person
  double email_exact = 12.0;          // equal email keys
  double email_close = 5.0;           // same domain and local parts one edit apart, or same local part
  double email_differs = -4.0;        // both present, otherwise different
  double phone_exact = 11.0;
  double phone_close = 5.0;           // one substitution or transposition apart
  double phone_differs = -4.0;
  double name_exact = 6.0;            // token similarity >= 0.97
  double name_high = 4.0;             // >= 0.90
  double name_medium = 1.5;           // >= 0.80
  double name_differs = -6.0;         // < 0.80
  double first_name_differs = -10.0;  // same surname, different given name (family members)
  double address_high = 3.0;          // overlap >= 0.8
  double address_medium = 1.0;        // >= 0.5
  double address_differs = -2.0;      // < 0.3
  double threshold = 0.90;            // report pairs with score >= threshold
  std::size_t max_block_size = 1000;
};

struct PairScore {
  double score = 0;    // [0,1]
  double weight = 0;   // total log2 odds
  std::vector<std::string> reasons;  // e.g. "email", "phone~", "name~0.93", "address~0.80"
};

PairScore score_pair(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& config = {});

struct ScoredPair {
  std::size_t a, b;  // indexes into the record vector, a < b
  PairScore score;
};

// Candidate pairs from blocking (each pair once), scored; only those >= threshold.
// progress(done, total) is called as blocks are processed (may be empty).
std::vector<ScoredPair> find_scored_pairs(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                                          const std::function<void(std::size_t, std::size_t)>& progress = {});

struct DuplicateGroup {
  std::vector<std::size_t> members;  // indexes, ascending
  double score = 0;                  // weakest link of the strongest connecting pairs
  std::vector<std::string> reasons;  // union of the connecting pairs' reasons
};

// Connected components over the pairs, skipping dismissed pairs (ids, either
// order). Groups sorted by score descending, then by first member id.
std::vector<DuplicateGroup> group_duplicates(const std::vector<PreparedRecord>& records,
                                             std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed = {});

// Pairwise evaluation of reported groups against true clusters (ids).
struct PairwiseQuality {
  std::size_t true_positives = 0, false_positives = 0, false_negatives = 0;
  double precision = 0, recall = 0, f1 = 0;
};
PairwiseQuality evaluate_groups(const std::vector<std::vector<std::string>>& reported,
                                const std::vector<std::vector<std::string>>& truth);

}  // namespace tradesphere::domain
