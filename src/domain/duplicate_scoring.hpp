// Duplicate finding over a company's customers (issue 13; docs/duplicates.md).
//
// 1. prepare(): per customer, the parsed comparison values (match_model.hpp).
// 2. candidate pairs from several blocking rules (match_blocking.hpp), never O(n^2).
// 3. a Fellegi-Sunter model: trained by EM on the candidate pairs (or a stored
//    one), term-frequency adjusted; each pair gets a probability and its evidence.
// 4. group_duplicates(): pairs at or above the threshold (and not dismissed)
//    joined into connected components, each group keeping the pairs that join it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain/match_blocking.hpp"
#include "domain/match_model.hpp"

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
  MatchFields fields;
};

PreparedRecord prepare(const MatchInput& input);

struct ScoringConfig {
  double threshold = 0.60;              // report pairs whose match probability is >= threshold (docs/duplicates.md: how it was chosen)
  std::size_t max_block_size = 1000;    // a blocking key shared by more records is skipped (reported)
  std::shared_ptr<const MatchModel> model;  // null: trained on the records scanned (or priors for one pair)
  TrainOptions train;
  // from this many records the scan compares copies laid out for locality
  // (lay_out_for_locality in duplicate_scoring.cpp); the output is the same
  std::size_t lay_out_from = 50'000;
};

struct PairScore {
  double score = 0;    // match probability [0,1]
  double weight = 0;   // total log2 odds
  std::vector<std::string> reasons;  // agreeing comparisons: "email", "surname", "street~"
  std::vector<Evidence> evidence;    // every compared field with its weight, strongest first
};

PairScore score_pair(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& config = {});
// score_pair() when the pair scores at least min_score, nullopt otherwise (without
// building the evidence of the pairs it drops).
std::optional<PairScore> score_pair_at_least(const PreparedRecord& a, const PreparedRecord& b, const ScoringConfig& config,
                                             double min_score);
nlohmann::json evidence_json(const PairScore& s);

struct ScoredPair {
  std::size_t a, b;  // indexes into the record vector, a < b
  PairScore score;
};

struct DuplicateScan {
  std::vector<ScoredPair> pairs;  // >= threshold
  std::shared_ptr<const MatchModel> model;
  std::vector<BlockingRuleStats> blocking;
  std::size_t candidate_pairs = 0;
};

// Blocking, training (unless config.model is set), scoring. progress(stage, done, total).
DuplicateScan scan_duplicates(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                              const std::function<void(const std::string&, std::size_t, std::size_t)>& progress = {});
// The pairs of scan_duplicates (progress: scored, candidates).
std::vector<ScoredPair> find_scored_pairs(const std::vector<PreparedRecord>& records, const ScoringConfig& config,
                                          const std::function<void(std::size_t, std::size_t)>& progress = {});

struct DuplicateGroup {
  std::vector<std::size_t> members;  // indexes, ascending
  double score = 0;                  // weakest link of the strongest connecting pairs
  std::vector<std::string> reasons;  // union of the connecting pairs' reasons
  std::vector<ScoredPair> links;     // the pairs that joined the group (a spanning tree, strongest first)
};

// Connected components over the pairs, skipping dismissed pairs (ids, either
// order). Groups sorted by score descending, then by first member id.
std::vector<DuplicateGroup> group_duplicates(const std::vector<PreparedRecord>& records,
                                             std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed = {});
// The same over bare ids (pairs index into `ids`): grouping stored pairs needs
// nothing else of a customer.
std::vector<DuplicateGroup> group_duplicates(const std::vector<std::string>& ids, std::vector<ScoredPair> pairs,
                                             const std::set<std::pair<std::string, std::string>>& dismissed = {});

// Pairwise evaluation of reported groups against true clusters (ids).
struct PairwiseQuality {
  std::size_t true_positives = 0, false_positives = 0, false_negatives = 0;
  double precision = 0, recall = 0, f1 = 0;
};
PairwiseQuality evaluate_groups(const std::vector<std::vector<std::string>>& reported,
                                const std::vector<std::vector<std::string>>& truth);

}  // namespace tradesphere::domain
