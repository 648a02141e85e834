// SQL of duplicate detection (issue 6): what the C++ model compares, candidate
// blocking for one customer (indexed: email equality/trigram, phone digits,
// name trigram), and "not a duplicate" dismissals.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "db/database.hpp"
#include <nlohmann/json.hpp>

#include "domain/duplicate_pair_table.hpp"
#include "domain/duplicate_scoring.hpp"
#include "domain/match_blocking.hpp"

namespace tradesphere::db {

// Every active customer of the company, ordered by id.
std::vector<domain::MatchInput> load_active_match_inputs(Tx& tx, const std::string& company_id);
// One customer (any status); std::nullopt when not visible.
std::optional<domain::MatchInput> load_match_input(Tx& tx, const std::string& company_id, const std::string& id);
// Active customers sharing a block with `id` (at most 1000).
std::vector<domain::MatchInput> load_candidates(Tx& tx, const std::string& company_id, const std::string& id);

// ---- the stored blocking index (migration 0022) ------------------------------
struct BlockingEntry {
  std::string customer_id;
  std::vector<std::int64_t> keys;  // domain::blocking_hashes(...).stored
};
// Writes the keys of the given customers of the current tenant (app.company_id);
// returns how many were new or changed (unchanged keys are not rewritten).
std::size_t store_blocking_keys(Tx& tx, const std::vector<BlockingEntry>& entries);
// After a rebuild: every active customer's keys (`entries`), the keys of customers
// no longer active removed, the tenant's index recorded as complete.
// `large_blocks`: the blocks of more than domain::kAlwaysReadBlock customers
// among `entries`, stored for the lookup (migration 0025).
struct BlockingSync {
  std::size_t written = 0;       // customers whose keys were new or changed
  std::size_t removed = 0;       // customers no longer active
  std::size_t large_blocks = 0;  // block sizes stored
};
BlockingSync replace_all_blocking_keys(Tx& tx, const std::vector<BlockingEntry>& entries,
                                       const std::vector<domain::BlockSize>& large_blocks);
// True once a rebuild wrote every active customer's keys (kept current since by the queue).
bool blocking_index_complete(Tx& tx, const std::string& company_id);
// Active customers other than `id` sharing one of the `lookup` hashes; a hash held
// by more than max_block_size customers is skipped; at most `limit` customers.
std::vector<domain::MatchInput> load_blocked_candidates(Tx& tx, const std::string& company_id, const std::string& id,
                                                        const std::vector<std::int64_t>& lookup,
                                                        std::size_t max_block_size, std::size_t limit);

// Dismissed pairs of the company (customer_a < customer_b), or only those involving `customer_id`.
std::set<std::pair<std::string, std::string>> load_dismissals(Tx& tx, const std::string& company_id,
                                                              const std::optional<std::string>& customer_id = {});
// Stores the pair in canonical order; true when it was new.
bool insert_dismissal(Tx& tx, const std::string& company_id, const std::string& a, const std::string& b,
                      const std::optional<std::string>& reason);

// The company's stored duplicate model (parameters jsonb), std::nullopt when never trained.
std::optional<nlohmann::json> load_duplicate_model(Tx& tx, const std::string& company_id);
// When the stored model was trained (text), std::nullopt when never: a cheap
// version of the model for caches.
std::optional<std::string> duplicate_model_stamp(Tx& tx, const std::string& company_id);
void store_duplicate_model(Tx& tx, const std::string& company_id, const domain::MatchModel& model,
                           const std::optional<std::string>& actor);

// ---- the maintained queue (migration 0016) -----------------------------------
// Takes (and removes) up to `limit` queued customers of the current tenant, oldest first.
std::vector<std::string> claim_duplicate_queue(Tx& tx, std::size_t limit);
// One writer of a company's stored pairs and blocking keys at a time, until the
// transaction ends: a rebuild (`duplicates rebuild`, the retraining after a large
// import) and the queue's per-customer scoring wrote the same rows in different
// orders and deadlocked each other until the rebuild gave up. The rebuild waits
// for the lock; the queue tries it and leaves its slice for later when it is held.
void lock_duplicate_writes(Tx& tx, const std::string& company_id);
bool try_lock_duplicate_writes(Tx& tx, const std::string& company_id);
std::size_t clear_duplicate_queue(Tx& tx);
// Companies with queued customers (for the background worker).
std::vector<std::pair<std::string, std::size_t>> duplicate_queue_companies(Tx& tx);

struct StoredPair {
  std::string a, b;  // customer ids (any order on input; stored a < b)
  double score = 0;
  nlohmann::json evidence;
};
// Replaces the stored pairs of one customer.
void replace_duplicate_pairs_of(Tx& tx, const std::string& company_id, const std::string& customer_id,
                                const std::vector<StoredPair>& pairs);
// Replaces every stored pair of the company, writing only the pairs that are new,
// changed their score or are gone; returns how many it wrote or deleted.
std::size_t replace_all_duplicate_pairs(Tx& tx, const std::string& company_id, const std::vector<StoredPair>& pairs);

struct StoredPairView {
  StoredPair pair;            // pair.evidence is left null: parse evidence_text when it is needed
  std::string evidence_text;  // jsonb as text
  domain::MatchInput a, b;    // id, external_id, name
};
// Stored pairs >= min_score between active customers, not dismissed; only those of
// `customer_id` when given. Strongest first.
std::vector<StoredPairView> load_duplicate_pairs(Tx& tx, const std::string& company_id, double min_score,
                                                 const std::optional<std::string>& customer_id = {});

// The company's change counter over its stored pairs and dismissals (migration
// 0019); 0 before the first change.
std::int64_t duplicate_pairs_version(Tx& tx, const std::string& company_id);

// Every stored pair >= min_score that is not dismissed: ids and score only, for
// grouping a whole company (pairs exist only between active customers: the
// customers' triggers remove a customer's pairs when it stops being active).
std::vector<domain::PairChange> load_pair_scores(Tx& tx, const std::string& company_id, double min_score);
// The current state of every pair whose key changed after version `since` up to
// `until` (migration 0033's log), as load_pair_scores() would read it (a pair
// below min_score or dismissed has no score). nullopt when the log no longer
// reaches back to `since`: read everything instead.
std::optional<std::vector<domain::PairChange>> load_pair_changes(Tx& tx, const std::string& company_id,
                                                                 std::int64_t since, std::int64_t until,
                                                                 double min_score);
// id, external_id and name of those of `ids` that are active customers.
std::map<std::string, domain::MatchInput> load_active_labels(Tx& tx, const std::string& company_id,
                                                            const std::vector<std::string>& ids);

// Evidence (jsonb text) of the given stored pairs (a < b), by pair; absent when gone.
std::map<std::pair<std::string, std::string>, std::string> load_pair_evidence(
    Tx& tx, const std::string& company_id, const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace tradesphere::db
