// Blocking for duplicate finding (issue 13): several rules, each a key built
// from parts of a record; records sharing a key of one rule become candidate
// pairs; the union over the rules is scored. Never O(n^2): a key shared by
// more than max_block_size records is skipped and reported (too common to
// discriminate, and quadratic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "domain/match_model.hpp"

namespace tradesphere::domain {

struct BlockingRule {
  const char* name;  // "surname+postcode"
};
const std::vector<BlockingRule>& blocking_rules();

// Keys of one record under every rule. A record may have several keys per rule
// (a lone name token is tried as given name and surname). A one-sided key
// (probe = false) only pairs its record with records whose key is a probe: a
// full name meets the initials that could stand for it ("J. Smith"), but two
// full names never meet through their initials (that block would hold every
// "J* Smith" of a large company).
struct BlockingKey {
  int rule;
  std::string key;
  bool probe = true;
  bool operator<(const BlockingKey& o) const { return std::tie(rule, key, probe) < std::tie(o.rule, o.key, o.probe); }
  bool operator==(const BlockingKey& o) const { return rule == o.rule && key == o.key && probe == o.probe; }
};
std::vector<BlockingKey> blocking_keys(const MatchFields& record);

// The blocking keys of one record as stable 64-bit hashes (FNV-1a over the
// company, the rule, the key and its side), for the stored per-customer index
// (migration 0022). `stored` is written for the record; `lookup` is searched to
// find its candidates. A probe key is stored as itself and looks up both forms;
// a one-sided key is stored in its one-sided form and looks up the probe form
// only, so two one-sided keys never meet, as in candidate_pairs(). Stable across
// builds and machines (std::hash is not), because the hashes outlive the process.
struct BlockingHashes {
  std::vector<std::int64_t> stored;  // sorted, unique
  std::vector<std::int64_t> lookup;  // sorted, unique
};
BlockingHashes blocking_hashes(std::string_view company_id, const MatchFields& record);

// The per-customer lookup reads a block of at most this many customers whole;
// the sizes of larger blocks are stored by a rebuild (migration 0025), so that
// the lookup can take them smallest first within its budget without counting.
constexpr std::size_t kAlwaysReadBlock = 50;
struct BlockSize {
  std::int64_t key;
  std::size_t size;
  bool operator==(const BlockSize& o) const { return key == o.key && size == o.size; }
};
// The hashes found more than `more_than` times in `stored_hashes` (every
// customer's BlockingHashes::stored, concatenated: each customer holds a hash
// once, so a count is a block size), with their counts, ascending by hash.
std::vector<BlockSize> blocks_larger_than(std::vector<std::int64_t> stored_hashes, std::size_t more_than);

struct BlockingRuleStats {
  std::string rule;
  std::size_t blocks = 0;          // keys shared by >= 2 records
  std::size_t pairs = 0;           // pairs this rule produced (before the union)
  std::size_t new_pairs = 0;       // pairs no earlier rule had produced
  std::size_t skipped_blocks = 0;  // keys over max_block_size or beyond the rule's pair budget
  std::size_t skipped_records = 0; // records in those blocks
  std::size_t largest_skipped = 0;
};

struct CandidatePairs {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;  // first < second, unique, sorted
  std::vector<BlockingRuleStats> rules;
};

// max_pairs_per_record: each rule may produce at most that many pairs per record
// (at least 100,000); its largest blocks beyond the budget are skipped and reported.
CandidatePairs candidate_pairs(const std::vector<const MatchFields*>& records, std::size_t max_block_size,
                               std::size_t max_pairs_per_record = 20);

}  // namespace tradesphere::domain
