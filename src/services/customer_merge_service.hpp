// Merging duplicate customers N-way, with a preview and an exact undo (issue 6).
//
//   CustomerMergeService merges(db);
//   auto preview = merges.preview_merge(ctx, target, {a, b});
//   auto done = merges.merge_customers(ctx, target, {a, b}, {{"name", "Jane Smith"}});
//   merges.undo_merge(ctx, done.merge_id);
//
// merge_customers runs in one transaction: target and sources are locked in id
// order (so concurrent merges serialize and cannot form cycles), every row of a
// table that references a source is moved to the target (the referencing tables
// are read from the catalog; an unclassified foreign key stops the merge), the
// target takes the planned values (domain/merge_plan.hpp) overridden by the
// caller's choices, each source becomes status 'merged' with
// merged_into_customer_id and deleted_at, and customer_merge_log keeps one row per
// source with everything needed to undo. docs/duplicates.md has the rules.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/duplicate_pair_table.hpp"
#include "domain/duplicate_scoring.hpp"
#include "domain/merge_plan.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
class Tx;
}  // namespace tradesphere::db

namespace tradesphere::services {

struct MergePreview {
  std::string target_id;
  std::vector<std::string> source_ids;
  std::vector<domain::FieldProposal> fields;
  // What would move to the target, summed over the sources: chat_rows,
  // conversations, events, matching_keys, tags (source tags the target lacks).
  std::map<std::string, long> moves;
};

struct MergeResult {
  std::string merge_id;
  std::string target_id;
  std::vector<std::string> source_ids;  // sorted
  std::map<std::string, long> moved;    // table -> rows re-pointed at the target
};

struct UndoResult {
  std::string merge_id;
  std::string target_id;
  std::vector<std::string> source_ids;
};

// One merge as the log records it (all its sources).
struct MergeDetails {
  std::string merge_id;
  std::string target_id;
  std::vector<std::string> source_ids;  // ordered by id
  nlohmann::json field_choices;
  std::optional<std::string> actor;
  std::string created_at;
  std::optional<std::string> undone_at;  // set once undone
};

struct DuplicateMember {
  std::string id;
  std::optional<std::string> external_id;
  std::optional<std::string> name;
};

struct DuplicateCandidate {
  DuplicateMember customer;
  double score = 0;
  std::vector<std::string> reasons;
  std::vector<domain::Evidence> evidence;  // every comparison with its weight in bits, strongest first
};

// One pair that joins a group, with why.
struct DuplicateLink {
  std::string a, b;  // customer ids
  double score = 0;
  std::vector<domain::Evidence> evidence;
};

struct DuplicateGroupView {
  double score = 0;
  std::vector<std::string> reasons;
  std::vector<DuplicateMember> customers;  // ordered by id
  std::vector<DuplicateLink> pairs;        // the pairs that join the group, strongest first
};

// What a whole-company scan or training did.
struct DuplicateScanReport {
  std::size_t records = 0, candidate_pairs = 0;
  std::vector<domain::BlockingRuleStats> blocking;
  std::shared_ptr<const domain::MatchModel> model;
  bool model_stored = false;
  // the stored blocking index (0022, 0025), when the rebuild wrote it
  struct IndexWritten {
    std::size_t customers_written = 0;  // whose keys were new or changed
    std::size_t customers_removed = 0;  // no longer active
    std::size_t large_blocks = 0;       // block sizes stored for the per-customer lookup
  };
  std::optional<IndexWritten> index;
};
nlohmann::json to_json(const DuplicateScanReport& report);

struct BulkDuplicateOptions {
  domain::ScoringConfig scoring;  // scoring.threshold = minimum score
  bool retrain = false;           // estimate the model again even when one is stored
  DuplicateScanReport* report = nullptr;  // filled when set
  bool groups = true;             // false: no groups are formed (training needs only the stored pairs)
  // Called with (stage, done, total): "load", "block", "compare", "train", "score", "index", "store", "group".
  std::function<void(const std::string&, std::size_t, std::size_t)> progress;
};

// {"score":0.93,"reasons":[...],"customers":[{"id","external_id","name"},...]}
nlohmann::json to_json(const DuplicateGroupView& group);
nlohmann::json to_json(const DuplicateCandidate& candidate);
nlohmann::json to_json(const MergePreview& preview);
nlohmann::json to_json(const MergeResult& result);
// {"merge_id","target_id","source_ids","field_choices","actor","created_at","undone_at","status":"applied"|"undone"}
nlohmann::json to_json(const MergeDetails& merge);

// The groups of a company's stored pairs, kept between requests while the
// company's pair version (migration 0019) is unchanged: grouping every pair costs
// about a second at 100k customers, answering a page from memory a few ms.
// Evidence is not kept (it is read for the page's pairs only). Thread-safe;
// shared by copies of the service.
class DuplicateGroupCache {
 public:
  struct Groups {
    std::int64_t version = 0;
    domain::PairTable table;               // the stored pairs at `version`
    domain::PairGroups groups;             // strongest first; index into table's ids
  };
  // The groups last stored for (company, min_score), of whatever version.
  std::shared_ptr<const Groups> find(const std::string& company_id, double min_score);
  void store(const std::string& company_id, double min_score, std::shared_ptr<const Groups> groups);
  // The (company, min_score) keys held for a company (the queue worker refreshes them).
  std::vector<double> min_scores_of(const std::string& company_id);

  // The company's parsed duplicate model, kept while its trained_at stamp stands:
  // reading and parsing the stored parameters (term frequencies included) costs
  // more than scoring one customer's candidates.
  std::shared_ptr<const domain::MatchModel> find_model(const std::string& company_id, const std::string& stamp);
  void store_model(const std::string& company_id, const std::string& stamp,
                   std::shared_ptr<const domain::MatchModel> model);

 private:
  static constexpr std::size_t kMaxEntries = 32;  // least recently used goes first
  struct Entry {
    std::shared_ptr<const Groups> groups;
    std::uint64_t used = 0;
  };
  std::mutex mutex_;
  std::map<std::pair<std::string, double>, Entry> entries_;
  std::uint64_t clock_ = 0;
  std::map<std::string, std::pair<std::string, std::shared_ptr<const domain::MatchModel>>> models_;
};

class CustomerMergeService {
 public:
  explicit CustomerMergeService(db::Database& db)
      : db_(db), group_cache_(std::make_shared<DuplicateGroupCache>()) {}
  CustomerMergeService(db::Database& db, std::shared_ptr<DuplicateGroupCache> cache)
      : db_(db), group_cache_(std::move(cache)) {}
  const std::shared_ptr<DuplicateGroupCache>& group_cache() const { return group_cache_; }

  // Any role. Candidates for one customer, best first; dismissed pairs are never
  // returned. NotFoundError for an unknown id.
  std::vector<DuplicateCandidate> find_duplicates(const domain::RequestContext& ctx, const std::string& customer_id,
                                                  const domain::ScoringConfig& scoring = {});
  // Any role. A whole-company scan: groups over every active customer (blocking,
  // the stored model or one trained now, scoring). With the agent or admin role it
  // is also the rebuild of the maintained queue: the model and every pair scoring
  // >= kStoredPairFloor are stored, the queue is emptied.
  std::vector<DuplicateGroupView> bulk_find_duplicates(const domain::RequestContext& ctx,
                                                       const BulkDuplicateOptions& options = {});
  // Any role. Groups from the maintained pairs (GET /v1/duplicates): up to
  // kReadQueueSlice queued customers are scored first, so a read sees the writes
  // just before it; a larger backlog is the background worker's.
  // The first `limit` groups, strongest first (only their evidence is read); *total
  // receives how many groups there are.
  std::vector<DuplicateGroupView> duplicate_groups(const domain::RequestContext& ctx, double min_score,
                                                   std::size_t limit = SIZE_MAX, std::size_t* total = nullptr);
  // Any role (the queue is the database's, not the caller's). Scores the candidates
  // of up to `limit` queued customers of the company with the stored model and
  // stores their pairs; returns how many customers were scored.
  std::size_t process_duplicate_queue(const domain::RequestContext& ctx, std::size_t limit = 1000);
  // Pairs below this score are not stored; a lower min_score is answered by a scan.
  static constexpr double kStoredPairFloor = 0.5;
  // Queued customers a read scores before answering (the rest is the worker's).
  static constexpr std::size_t kReadQueueSlice = 200;
  // Agent or admin. Estimates the company's duplicate model from its active
  // customers (EM on the candidate pairs), stores it and rebuilds the stored pairs
  // (the queue is emptied); the report says what was learned.
  // progress: as BulkDuplicateOptions::progress.
  DuplicateScanReport train_duplicate_model(
      const domain::RequestContext& ctx, std::size_t max_block_size = 1000,
      const std::function<void(const std::string&, std::size_t, std::size_t)>& progress = {});
  // Any role. The stored model (or the priors when none was trained).
  std::shared_ptr<const domain::MatchModel> duplicate_model(const domain::RequestContext& ctx);
  // Agent or admin. Marks a pair "not a duplicate" for good; false when it already was.
  bool dismiss_duplicate(const domain::RequestContext& ctx, const std::string& a, const std::string& b,
                         const std::optional<std::string>& reason = {});

  // Any role. Same guards as merge_customers (except the admin role).
  MergePreview preview_merge(const domain::RequestContext& ctx, const std::string& target_id,
                             const std::vector<std::string>& source_ids);

  // Admin only (PermissionError). field_choices: field -> value (nullopt clears);
  // fields not chosen take the proposal. Errors: ValidationError (no sources,
  // self-merge, bad choice), NotFoundError (unknown id or another company's),
  // ConflictError (source already merged or deleted, target deleted, target merged
  // away: the message names where it went).
  MergeResult merge_customers(const domain::RequestContext& ctx, const std::string& target_id,
                              const std::vector<std::string>& source_ids,
                              const std::map<std::string, std::optional<std::string>>& field_choices = {});

  // Admin only. NotFoundError for an unknown merge; ConflictError when it was undone
  // already or when a later change makes an exact undo impossible (the message names
  // the blocker: a later merge into the target, an edit of the target or a source,
  // a moved row that moved again).
  UndoResult undo_merge(const domain::RequestContext& ctx, const std::string& merge_id);

  // Any role. NotFoundError for an unknown merge (or another company's, or not a uuid).
  MergeDetails get_merge(const domain::RequestContext& ctx, const std::string& merge_id);
  // The company's merges, newest first (the console's merge history); `cursor` is
  // the next_cursor of the previous page. Malformed cursor: ValidationError("cursor").
  struct MergePage {
    std::vector<MergeDetails> items;
    std::optional<std::string> next_cursor;
  };
  MergePage list_merges(const domain::RequestContext& ctx, int limit, const std::optional<std::string>& cursor);

 private:
  // The company's stored model through the cache (nullptr when never trained).
  std::shared_ptr<const domain::MatchModel> stored_model(db::Tx& tx, const std::string& company_id);

  db::Database& db_;
  std::shared_ptr<DuplicateGroupCache> group_cache_;
};

}  // namespace tradesphere::services
