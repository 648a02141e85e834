#include "services/customer_merge_service.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <unordered_map>
#include <tuple>
#include <set>

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/customer_repository.hpp"
#include "db/database.hpp"
#include "db/duplicate_repository.hpp"
#include "db/merge_repository.hpp"
#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"
#include "domain/parallel.hpp"

namespace tradesphere::services {
namespace {

using domain::ConflictError;
using domain::NotFoundError;
using domain::ValidationError;

struct Checked {
  db::LockedCustomer target;
  std::vector<db::LockedCustomer> sources;  // sorted by id
};

nlohmann::json opt_json(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

std::string not_found(const std::string& id) { return "customer " + id + " not found"; }

// The candidates scored for one customer: its blocks smallest first while they
// fit this budget (docs/duplicates.md, "The stored blocking index"). Measured at
// 1M generated customers: a budget of 1000 read ~570 candidates per customer and
// found every pair of the whole-company scan; 300 reads ~12 and finds 98 % of them
// (the rest came from blocks of given name + town), at a sixth of the time. With
// the stored block sizes (0025), same 400 customers, same run: 300 p50 10.2-13.6 ms,
// 150 p50 4.3-4.8 ms, 100 p50 4.3 ms; 150 and 300 both found all 89 of the scan's
// pairs among them (300 found 2 more the scan does not propose).
constexpr std::size_t kCandidateBudget = 150;

// The candidates of one customer: from the stored blocking index (0022), by the
// rules of the whole-company scan, once the company's index is complete; before
// its first rebuild (an upgraded company), the trigram lookup of 0011.
std::vector<domain::MatchInput> candidates_of(db::Tx& tx, const std::string& company_id,
                                              const domain::PreparedRecord& me, bool indexed,
                                              std::size_t max_block_size) {
  if (!indexed) return db::load_candidates(tx, company_id, me.input.id);
  return db::load_blocked_candidates(tx, company_id, me.input.id,
                                     domain::blocking_hashes(company_id, me.fields).lookup,
                                     std::min(max_block_size, kCandidateBudget), kCandidateBudget);
}

// Validates ids, locks every row in id order and applies the guards.
// `moving`: the merge itself (its sources' chat rows will move), not its preview.
Checked check_merge(db::Tx& tx, const domain::RequestContext& ctx, const std::string& target_id,
                    const std::vector<std::string>& source_ids, bool moving) {
  if (source_ids.empty()) throw ValidationError("sources", "at least one source customer is required");
  std::set<std::string> unique;
  for (const auto& id : source_ids) {
    if (!domain::is_uuid(id)) throw NotFoundError(not_found(id));
    if (id == target_id) throw ValidationError("sources", "cannot merge customer " + id + " into itself");
    if (!unique.insert(id).second) throw ValidationError("sources", "customer " + id + " is listed twice");
  }
  if (!domain::is_uuid(target_id)) throw NotFoundError(not_found(target_id));

  // Every foreign key to customers must have a known treatment.
  for (const auto& fk : db::customer_foreign_keys(tx)) {
    if (!db::reference_action(fk))
      throw domain::ServiceError("merge does not know how to treat rows of table \"" + fk.table +
                                 "\" that reference customers (constraint " + fk.constraint +
                                 "); classify it in src/db/merge_repository.cpp");
  }

  std::vector<std::string> all(unique.begin(), unique.end());
  // the sources' chat rows move: first the chat sync's locks of what it reads as theirs
  if (moving) db::lock_chat_sync_of_customers(tx, ctx.company_id, all);
  all.push_back(target_id);
  auto locked = db::lock_customers(tx, ctx.company_id, all);
  auto it = locked.find(target_id);
  if (it == locked.end()) throw NotFoundError(not_found(target_id));
  Checked out{it->second, {}};
  if (out.target.status == "merged") {
    std::string final_id = *out.target.merged_into;
    for (int hop = 0; hop < 50; ++hop) {
      auto next = db::lock_customers(tx, ctx.company_id, {final_id});
      if (next.empty() || next.begin()->second.status != "merged") break;
      final_id = *next.begin()->second.merged_into;
    }
    throw ConflictError("customer " + target_id + " was merged into customer " + final_id +
                        "; merge into " + final_id + " instead");
  }
  if (out.target.status == "deleted") throw ConflictError("customer " + target_id + " is deleted");
  for (const auto& id : unique) {
    auto s = locked.find(id);
    if (s == locked.end()) throw NotFoundError(not_found(id));
    if (s->second.status == "merged") {
      auto by = db::merge_that_absorbed(tx, ctx.company_id, id);
      throw ConflictError("customer " + id + " was already merged into customer " + *s->second.merged_into +
                          (by ? " (merge " + *by + ")" : ""));
    }
    if (s->second.status == "deleted") throw ConflictError("customer " + id + " is deleted");
    out.sources.push_back(s->second);
  }
  return out;
}

std::vector<domain::MergeRecord> records(const std::vector<db::LockedCustomer>& rows) {
  std::vector<domain::MergeRecord> out;
  for (const auto& r : rows) out.push_back(r.record);
  return out;
}

void require_admin(const domain::RequestContext& ctx, const char* what) {
  if (!ctx.is_admin()) throw domain::PermissionError(std::string(what) + " requires the admin role");
}

}  // namespace

nlohmann::json to_json(const MergePreview& p) {
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : p.fields) fields.push_back(domain::to_json(f));
  return {{"target_id", p.target_id}, {"source_ids", p.source_ids}, {"fields", fields}, {"moves", p.moves}};
}

nlohmann::json to_json(const MergeResult& r) {
  return {{"merge_id", r.merge_id}, {"target_id", r.target_id}, {"source_ids", r.source_ids}, {"moved", r.moved}};
}

nlohmann::json to_json(const MergeDetails& m) {
  return {{"merge_id", m.merge_id},
          {"target_id", m.target_id},
          {"source_ids", m.source_ids},
          {"field_choices", m.field_choices},
          {"actor", opt_json(m.actor)},
          {"created_at", m.created_at},
          {"undone_at", opt_json(m.undone_at)},
          {"status", m.undone_at ? "undone" : "applied"}};
}

nlohmann::json to_json(const DuplicateMember& m) {
  return {{"id", m.id}, {"external_id", opt_json(m.external_id)}, {"name", opt_json(m.name)}};
}

namespace {
nlohmann::json evidence_array(const std::vector<domain::Evidence>& evidence) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : evidence) out.push_back(domain::to_json(e));
  return out;
}
}  // namespace

nlohmann::json to_json(const DuplicateGroupView& g) {
  nlohmann::json customers = nlohmann::json::array();
  for (const auto& c : g.customers) customers.push_back(to_json(c));
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : g.pairs)
    pairs.push_back({{"a", p.a},
                     {"b", p.b},
                     {"score", std::round(p.score * 10000) / 10000},
                     {"explanation", domain::explain(p.evidence)},
                     {"evidence", evidence_array(p.evidence)}});
  return {{"score", std::round(g.score * 10000) / 10000}, {"reasons", g.reasons}, {"customers", customers}, {"pairs", pairs}};
}

nlohmann::json to_json(const DuplicateCandidate& c) {
  auto j = to_json(c.customer);
  j["score"] = std::round(c.score * 10000) / 10000;
  j["reasons"] = c.reasons;
  j["explanation"] = domain::explain(c.evidence);
  j["evidence"] = evidence_array(c.evidence);
  return j;
}

nlohmann::json to_json(const DuplicateScanReport& r) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& b : r.blocking)
    rules.push_back({{"rule", b.rule},
                     {"blocks", b.blocks},
                     {"pairs", b.pairs},
                     {"new_pairs", b.new_pairs},
                     {"skipped_blocks", b.skipped_blocks},
                     {"skipped_records", b.skipped_records},
                     {"largest_skipped_block", b.largest_skipped}});
  nlohmann::json j{{"records", r.records}, {"candidate_pairs", r.candidate_pairs}, {"blocking", rules},
                   {"model_stored", r.model_stored}};
  if (r.model) j["model"] = domain::to_json(*r.model, false);
  if (r.index)
    j["blocking_index"] = {{"customers_written", r.index->customers_written},
                           {"customers_removed", r.index->customers_removed},
                           {"large_blocks", r.index->large_blocks}};
  return j;
}

namespace {
std::vector<domain::Evidence> evidence_of(const nlohmann::json& j) {
  std::vector<domain::Evidence> out;
  if (j.is_array())
    for (const auto& e : j) out.push_back(domain::evidence_from_json(e));
  return out;
}
}  // namespace

namespace {
// A group as the API shows it: its members and the pairs that join it, strongest
// first; evidence(link) supplies each pair's evidence. Reasons are the caller's.
DuplicateGroupView group_view(const std::vector<domain::PreparedRecord>& records, const domain::DuplicateGroup& g,
                              const std::function<std::vector<domain::Evidence>(const domain::ScoredPair&)>& evidence) {
  DuplicateGroupView v{g.score, {}, {}, {}};
  for (auto i : g.members) v.customers.push_back({records[i].input.id, records[i].input.external_id, records[i].input.name});
  for (const auto& l : g.links) v.pairs.push_back({records[l.a].input.id, records[l.b].input.id, l.score.score, evidence(l)});
  std::sort(v.pairs.begin(), v.pairs.end(), [](const DuplicateLink& x, const DuplicateLink& y) { return x.score > y.score; });
  return v;
}
}  // namespace

std::size_t CustomerMergeService::process_duplicate_queue(const domain::RequestContext& ctx, std::size_t limit) {
  return db_.transact(ctx, "process_duplicate_queue", [&](db::Tx& tx) {
    // a rebuild or another slice is writing this company's pairs: they are left
    // queued for the next slice (a rebuild empties the queue anyway)
    if (!db::try_lock_duplicate_writes(tx, ctx.company_id)) return std::size_t{0};
    auto ids = db::claim_duplicate_queue(tx, limit);
    if (ids.empty()) return std::size_t{0};
    domain::ScoringConfig scoring;
    scoring.model = stored_model(tx, ctx.company_id);
    // the claimed customers' keys first, so the customers of one slice find each other
    std::vector<domain::PreparedRecord> claimed;
    std::vector<db::BlockingEntry> keys;
    for (const auto& id : ids) {
      auto me = db::load_match_input(tx, ctx.company_id, id);
      if (!me) continue;
      claimed.push_back(domain::prepare(*me));
      keys.push_back({id, domain::blocking_hashes(ctx.company_id, claimed.back().fields).stored});
    }
    db::store_blocking_keys(tx, keys);
    const bool indexed = db::blocking_index_complete(tx, ctx.company_id);
    for (const auto& prepared : claimed) {
      const auto& id = prepared.input.id;
      std::vector<db::StoredPair> pairs;
      for (const auto& c : candidates_of(tx, ctx.company_id, prepared, indexed, scoring.max_block_size)) {
        if (c.id == id) continue;
        if (auto s = domain::score_pair_at_least(prepared, domain::prepare(c), scoring, kStoredPairFloor))
          pairs.push_back({id, c.id, s->score, evidence_array(s->evidence)});
      }
      db::replace_duplicate_pairs_of(tx, ctx.company_id, id, pairs);
    }
    return ids.size();
  });
}

std::vector<DuplicateCandidate> CustomerMergeService::find_duplicates(const domain::RequestContext& ctx,
                                                                      const std::string& customer_id,
                                                                      const domain::ScoringConfig& scoring) {
  if (!domain::is_uuid(customer_id)) throw NotFoundError(not_found(customer_id));
  if (scoring.threshold >= kStoredPairFloor && !scoring.model) {
    // the maintained pairs, after scoring what is queued (read-your-writes). One
    // bounded slice: after an upgrade or a huge import the backlog belongs to the
    // background worker (or `duplicates rebuild`), not to a request.
    process_duplicate_queue(ctx, kReadQueueSlice);
    return db_.transact(
        ctx, "find_duplicates",
        [&](db::Tx& tx) {
          if (!db::load_match_input(tx, ctx.company_id, customer_id)) throw NotFoundError(not_found(customer_id));
          std::vector<DuplicateCandidate> out;
          for (const auto& v : db::load_duplicate_pairs(tx, ctx.company_id, scoring.threshold, customer_id)) {
            const auto& other = v.a.id == customer_id ? v.b : v.a;
            out.push_back({{other.id, other.external_id, other.name}, v.pair.score, {},
                           evidence_of(nlohmann::json::parse(v.evidence_text))});
            for (const auto& e : out.back().evidence)
              if (e.weight > 0) out.back().reasons.push_back(e.comparison);
          }
          std::sort(out.begin(), out.end(), [](const DuplicateCandidate& a, const DuplicateCandidate& b) {
            return a.score != b.score ? a.score > b.score : a.customer.id < b.customer.id;
          });
          return out;
        },
        db::TxMode::kReadOnly);
  }
  auto [me, candidates, dismissed, stored] = db_.transact(
      ctx, "find_duplicates",
      [&](db::Tx& tx) {
        auto self = db::load_match_input(tx, ctx.company_id, customer_id);
        if (!self) throw NotFoundError(not_found(customer_id));
        const bool indexed = db::blocking_index_complete(tx, ctx.company_id);
        return std::make_tuple(*self,
                               candidates_of(tx, ctx.company_id, domain::prepare(*self), indexed, scoring.max_block_size),
                               db::load_dismissals(tx, ctx.company_id, customer_id),
                               db::load_duplicate_model(tx, ctx.company_id));
      },
      db::TxMode::kReadOnly);
  domain::ScoringConfig with_model = scoring;
  if (!with_model.model && stored) with_model.model = std::make_shared<domain::MatchModel>(domain::model_from_json(*stored));
  auto prepared = domain::prepare(me);
  std::vector<DuplicateCandidate> out;
  for (const auto& c : candidates) {
    if (dismissed.count(std::minmax(c.id, customer_id))) continue;
    auto s = domain::score_pair_at_least(prepared, domain::prepare(c), with_model, scoring.threshold);
    if (!s) continue;
    out.push_back({{c.id, c.external_id, c.name}, s->score, s->reasons, s->evidence});
  }
  std::sort(out.begin(), out.end(), [](const DuplicateCandidate& a, const DuplicateCandidate& b) {
    return a.score != b.score ? a.score > b.score : a.customer.id < b.customer.id;
  });
  return out;
}

std::vector<DuplicateGroupView> CustomerMergeService::duplicate_groups(const domain::RequestContext& ctx,
                                                                       double min_score, std::size_t limit,
                                                                       std::size_t* total) {
  if (min_score < kStoredPairFloor) {  // not stored: scan
    BulkDuplicateOptions options;
    options.scoring.threshold = min_score;
    auto all = bulk_find_duplicates(ctx, options);
    if (total) *total = all.size();
    if (all.size() > limit) all.resize(limit);
    return all;
  }
  process_duplicate_queue(ctx, kReadQueueSlice);  // one bounded slice, as in find_duplicates
  const auto version = db_.transact(
      ctx, "duplicate_pairs_version", [&](db::Tx& tx) { return db::duplicate_pairs_version(tx, ctx.company_id); },
      db::TxMode::kReadOnly);
  auto cached = group_cache_->find(ctx.company_id, min_score);
  if (!cached || cached->version != version) {
    // Only the pairs changed since the cached version when the log still reaches
    // back to it (migration 0033), every pair otherwise. Read after the version:
    // the pairs are at least that new (a newer read is only applied once more,
    // never served stale).
    auto fresh = std::make_shared<DuplicateGroupCache::Groups>();
    fresh->version = version;
    std::optional<std::vector<std::uint32_t>> touched;  // set when only the changes were applied
    db_.transact(
        ctx, "duplicate_groups",
        [&](db::Tx& tx) {
          std::optional<std::vector<domain::PairChange>> changes;
          if (cached && cached->version < version)
            changes = db::load_pair_changes(tx, ctx.company_id, cached->version, version, min_score);
          if (changes) {
            fresh->table = cached->table;
            touched = fresh->table.apply(*changes);
          } else {
            fresh->table = domain::PairTable{};
            fresh->table.apply(db::load_pair_scores(tx, ctx.company_id, min_score));
            touched.reset();
          }
        },
        db::TxMode::kReadOnly);
    // only the groups of the customers whose pairs changed are formed again
    fresh->groups = touched ? fresh->table.groups_after(cached->groups, *touched) : fresh->table.groups();
    group_cache_->store(ctx.company_id, min_score, fresh);
    cached = std::move(fresh);
  }
  if (total) *total = cached->groups.size();
  const auto& table = cached->table;
  auto id_of = [&](std::uint32_t i) { return domain::uuid_text(table.id(i)); };
  const std::size_t shown = std::min(limit, cached->groups.size());
  // the names and the evidence of the shown groups only, read now (a rename since
  // the groups were cached shows its new name)
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<std::string> members;
  for (std::size_t gi = 0; gi < shown; ++gi) {
    for (const auto& l : cached->groups.links_of(gi)) keys.emplace_back(std::minmax(id_of(l.a), id_of(l.b)));
    for (auto m : cached->groups.members_of(gi)) members.push_back(id_of(m));
  }
  using Evidence = std::map<std::pair<std::string, std::string>, std::string>;
  const auto [evidence, labels] =
      keys.empty() ? std::pair<Evidence, std::map<std::string, domain::MatchInput>>{}
                   : db_.transact(
                         ctx, "duplicate_group_details",
                         [&](db::Tx& tx) {
                           return std::pair{db::load_pair_evidence(tx, ctx.company_id, keys),
                                            db::load_active_labels(tx, ctx.company_id, members)};
                         },
                         db::TxMode::kReadOnly);
  std::vector<DuplicateGroupView> out;
  for (std::size_t gi = 0; gi < shown; ++gi) {
    DuplicateGroupView v{cached->groups.groups[gi].score, {}, {}, {}};
    for (auto m : cached->groups.members_of(gi)) v.customers.push_back({id_of(m), {}, {}});
    for (const auto& l : cached->groups.links_of(gi)) {
      const auto a = id_of(l.a), b = id_of(l.b);
      auto it = evidence.find(std::minmax(a, b));
      v.pairs.push_back({a, b, l.score,
                         it == evidence.end() ? std::vector<domain::Evidence>{} : evidence_of(nlohmann::json::parse(it->second))});
    }
    std::sort(v.pairs.begin(), v.pairs.end(), [](const DuplicateLink& x, const DuplicateLink& y) { return x.score > y.score; });
    // a member that stopped being active after the groups were read is left out
    std::erase_if(v.customers, [&](const DuplicateMember& c) { return !labels.count(c.id); });
    for (auto& c : v.customers) {
      const auto& label = labels.at(c.id);
      c.external_id = label.external_id;
      c.name = label.name;
    }
    std::erase_if(v.pairs, [&](const DuplicateLink& p) { return !labels.count(p.a) || !labels.count(p.b); });
    if (v.customers.size() < 2 || v.pairs.empty()) continue;
    std::set<std::string> reasons;
    for (const auto& p : v.pairs)
      for (const auto& e : p.evidence)
        if (e.weight > 0) reasons.insert(e.comparison);
    v.reasons.assign(reasons.begin(), reasons.end());
    out.push_back(std::move(v));
  }
  return out;
}

std::shared_ptr<const DuplicateGroupCache::Groups> DuplicateGroupCache::find(const std::string& company_id,
                                                                             double min_score) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find({company_id, min_score});
  if (it == entries_.end()) return nullptr;
  it->second.used = ++clock_;
  return it->second.groups;
}

void DuplicateGroupCache::store(const std::string& company_id, double min_score,
                                std::shared_ptr<const Groups> groups) {
  std::lock_guard lock(mutex_);
  entries_[{company_id, min_score}] = Entry{std::move(groups), ++clock_};
  while (entries_.size() > kMaxEntries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& x, const auto& y) { return x.second.used < y.second.used; });
    entries_.erase(oldest);
  }
}

std::vector<double> DuplicateGroupCache::min_scores_of(const std::string& company_id) {
  std::lock_guard lock(mutex_);
  std::vector<double> out;
  for (const auto& [key, entry] : entries_) {
    if (key.first == company_id) out.push_back(key.second);
  }
  return out;
}

std::shared_ptr<const domain::MatchModel> DuplicateGroupCache::find_model(const std::string& company_id,
                                                                          const std::string& stamp) {
  std::lock_guard lock(mutex_);
  auto it = models_.find(company_id);
  if (it == models_.end() || it->second.first != stamp) return nullptr;
  return it->second.second;
}

void DuplicateGroupCache::store_model(const std::string& company_id, const std::string& stamp,
                                      std::shared_ptr<const domain::MatchModel> model) {
  std::lock_guard lock(mutex_);
  if (models_.size() >= kMaxEntries && !models_.count(company_id)) models_.erase(models_.begin());
  models_[company_id] = {stamp, std::move(model)};
}

std::shared_ptr<const domain::MatchModel> CustomerMergeService::stored_model(db::Tx& tx, const std::string& company_id) {
  const auto stamp = db::duplicate_model_stamp(tx, company_id);
  if (!stamp) return nullptr;
  if (auto cached = group_cache_->find_model(company_id, *stamp)) return cached;
  auto stored = db::load_duplicate_model(tx, company_id);
  if (!stored) return nullptr;
  auto model = std::make_shared<const domain::MatchModel>(domain::model_from_json(*stored));
  group_cache_->store_model(company_id, *stamp, model);
  return model;
}

std::shared_ptr<const domain::MatchModel> CustomerMergeService::duplicate_model(const domain::RequestContext& ctx) {
  auto stored = db_.transact(
      ctx, "load_duplicate_model", [&](db::Tx& tx) { return db::load_duplicate_model(tx, ctx.company_id); },
      db::TxMode::kReadOnly);
  return std::make_shared<domain::MatchModel>(stored ? domain::model_from_json(*stored) : domain::default_model());
}

DuplicateScanReport CustomerMergeService::train_duplicate_model(
    const domain::RequestContext& ctx, std::size_t max_block_size,
    const std::function<void(const std::string&, std::size_t, std::size_t)>& progress) {
  if (!ctx.can_write()) throw domain::PermissionError("training the duplicate model requires the agent or admin role");
  BulkDuplicateOptions options;
  options.retrain = true;
  options.scoring.max_block_size = max_block_size;
  options.scoring.threshold = kStoredPairFloor;  // and rebuild the stored pairs with the new model
  options.groups = false;                        // nobody reads them (2.8 s of a 1M rebuild)
  options.progress = progress;
  DuplicateScanReport report;
  options.report = &report;
  bulk_find_duplicates(ctx, options);
  return report;
}

std::vector<DuplicateGroupView> CustomerMergeService::bulk_find_duplicates(const domain::RequestContext& ctx,
                                                                           const BulkDuplicateOptions& options) {
  auto [inputs, dismissed, stored] = db_.transact(
      ctx, "bulk_find_duplicates",
      [&](db::Tx& tx) {
        return std::make_tuple(db::load_active_match_inputs(tx, ctx.company_id), db::load_dismissals(tx, ctx.company_id),
                               options.retrain ? std::nullopt : db::load_duplicate_model(tx, ctx.company_id));
      },
      db::TxMode::kReadOnly);
  if (options.progress) options.progress("load", inputs.size(), inputs.size());
  std::vector<domain::PreparedRecord> records(inputs.size());
  domain::parallel_for(inputs.size(), [&](std::size_t i) { records[i] = domain::prepare(inputs[i]); });
  domain::ScoringConfig scoring = options.scoring;
  if (!scoring.model && stored) scoring.model = std::make_shared<domain::MatchModel>(domain::model_from_json(*stored));
  const bool trained = !scoring.model;
  auto scan = domain::scan_duplicates(records, scoring, options.progress);
  bool model_stored = false;
  std::optional<DuplicateScanReport::IndexWritten> index;
  if (ctx.can_write() && options.scoring.threshold >= kStoredPairFloor) {
    // the rebuild of the maintained queue: model (when trained now), every pair
    // but the dismissed ones (a dismissal removes its pair for good, as the
    // per-customer scoring does), an empty queue
    std::vector<db::StoredPair> stored_pairs;
    for (const auto& p : scan.pairs) {
      const auto& a = records[p.a].input.id;
      const auto& b = records[p.b].input.id;
      if (p.score.score >= kStoredPairFloor && !dismissed.count(std::minmax(a, b)))
        stored_pairs.push_back({a, b, p.score.score, evidence_array(p.score.evidence)});
    }
    // and every active customer's blocking keys, for the per-customer scoring of the queue
    std::vector<db::BlockingEntry> keys(records.size());
    domain::parallel_for(records.size(), [&](std::size_t i) {
      keys[i] = {records[i].input.id, domain::blocking_hashes(ctx.company_id, records[i].fields).stored};
    });
    std::vector<std::int64_t> all_hashes;
    for (const auto& k : keys) all_hashes.insert(all_hashes.end(), k.keys.begin(), k.keys.end());
    const auto large_blocks = domain::blocks_larger_than(std::move(all_hashes), domain::kAlwaysReadBlock);
    if (options.progress) options.progress("index", large_blocks.size(), keys.size());
    index = db_.transact(ctx, "rebuild_duplicates", [&](db::Tx& tx) {
      db::lock_duplicate_writes(tx, ctx.company_id);
      if (trained) db::store_duplicate_model(tx, ctx.company_id, *scan.model, ctx.user_id);
      db::replace_all_duplicate_pairs(tx, ctx.company_id, stored_pairs);
      const auto sync = db::replace_all_blocking_keys(tx, keys, large_blocks);
      db::clear_duplicate_queue(tx);
      return DuplicateScanReport::IndexWritten{sync.written, sync.removed, sync.large_blocks};
    });
    model_stored = trained;
    if (options.progress) options.progress("store", stored_pairs.size(), keys.size());
  }
  if (options.report)
    *options.report = {records.size(), scan.candidate_pairs, scan.blocking, scan.model, model_stored, index};
  if (!options.groups) return {};
  auto groups = domain::group_duplicates(records, std::move(scan.pairs), dismissed);
  if (options.progress) options.progress("group", groups.size(), groups.size());
  std::vector<DuplicateGroupView> out;
  for (const auto& g : groups) {
    auto v = group_view(records, g, [](const domain::ScoredPair& l) { return l.score.evidence; });
    v.reasons = g.reasons;
    out.push_back(std::move(v));
  }
  return out;
}

bool CustomerMergeService::dismiss_duplicate(const domain::RequestContext& ctx, const std::string& a,
                                             const std::string& b, const std::optional<std::string>& reason) {
  if (!ctx.can_write()) throw domain::PermissionError("dismissing a duplicate requires the agent or admin role");
  if (!domain::is_uuid(a)) throw NotFoundError(not_found(a));
  if (!domain::is_uuid(b)) throw NotFoundError(not_found(b));
  if (a == b) throw ValidationError("customer_b", "a customer cannot be dismissed as a duplicate of itself");
  return db_.transact(ctx, "dismiss_duplicate", [&](db::Tx& tx) {
    for (const auto& id : {a, b})
      if (!db::load_match_input(tx, ctx.company_id, id)) throw NotFoundError(not_found(id));
    return db::insert_dismissal(tx, ctx.company_id, a, b, reason);
  });
}

MergePreview CustomerMergeService::preview_merge(const domain::RequestContext& ctx, const std::string& target_id,
                                                 const std::vector<std::string>& source_ids) {
  return db_.transact(ctx, "preview_merge", [&](db::Tx& tx) {
    auto checked = check_merge(tx, ctx, target_id, source_ids, /*moving=*/false);
    MergePreview p;
    p.target_id = target_id;
    for (const auto& s : checked.sources) p.source_ids.push_back(s.record.id);
    p.fields = domain::plan_merge(checked.target.record, records(checked.sources));
    p.moves = {{"chat_rows", 0}, {"conversations", 0}, {"events", 0}, {"matching_keys", 0}, {"tags", 0}};
    std::set<std::string> tags(checked.target.record.tags.begin(), checked.target.record.tags.end());
    for (const auto& s : checked.sources) {
      for (const auto& [k, n] : db::count_references(tx, ctx.company_id, s.record.id)) p.moves[k] += n;
      for (const auto& t : s.record.tags)
        if (tags.insert(t).second) ++p.moves["tags"];
    }
    return p;
  });
}

MergeResult CustomerMergeService::merge_customers(const domain::RequestContext& ctx, const std::string& target_id,
                                                  const std::vector<std::string>& source_ids,
                                                  const std::map<std::string, std::optional<std::string>>& choices) {
  require_admin(ctx, "merging customers");
  auto result = db_.transact(ctx, "merge_customers", [&](db::Tx& tx) {
    auto checked = check_merge(tx, ctx, target_id, source_ids, /*moving=*/true);
    auto outcome = domain::resolve_merge(checked.target.record, records(checked.sources), choices);

    MergeResult r;
    r.target_id = target_id;
    r.merge_id = db::new_uuid(tx);
    std::vector<db::MergeLogRow> logs;
    for (const auto& s : checked.sources) {
      r.source_ids.push_back(s.record.id);
      db::MergeLogRow log;
      log.id = logs.empty() ? r.merge_id : db::new_uuid(tx);
      log.merge_id = r.merge_id;
      log.source_customer_id = s.record.id;
      log.target_customer_id = target_id;
      log.source_snapshot = s.image;
      log.target_snapshot = checked.target.image;
      log.moved_rows = db::move_references(tx, ctx.company_id, s.record.id, target_id);
      for (auto& [table, ids] : log.moved_rows.items()) r.moved[table] += static_cast<long>(ids.size());
      logs.push_back(std::move(log));
    }
    int target_version = db::update_target_fields(tx, ctx.company_id, target_id, outcome);
    nlohmann::json fields = {{"name", opt_json(outcome.name)},       {"email", opt_json(outcome.email)},
                             {"phone", opt_json(outcome.phone)},     {"address", opt_json(outcome.address)},
                             {"notes", opt_json(outcome.notes)},     {"lifecycle_stage", outcome.lifecycle_stage},
                             {"tags", outcome.tags}};
    nlohmann::json explicit_choices = nlohmann::json::object();
    for (const auto& [k, v] : choices) explicit_choices[k] = v ? nlohmann::json(*v) : nullptr;
    for (std::size_t i = 0; i < logs.size(); ++i) {
      int source_version = db::mark_merged(tx, ctx.company_id, logs[i].source_customer_id, target_id);
      logs[i].field_choices = {{"merge_id", r.merge_id},
                               {"fields", fields},
                               {"explicit", explicit_choices},
                               {"sources", r.source_ids},
                               {"source_version_after", source_version},
                               {"target_version_after", target_version}};
      db::insert_merge_log(tx, ctx.company_id, logs[i]);
      db::insert_event(tx, ctx.company_id, logs[i].source_customer_id, "merged",
                       {{"merge_id", r.merge_id}, {"role", "source"}, {"into", target_id}});
    }
    db::insert_event(tx, ctx.company_id, target_id, "merged",
                     {{"merge_id", r.merge_id}, {"role", "target"}, {"sources", r.source_ids}, {"moved", r.moved}});
    return r;
  });
  static auto& merges = common::metrics().counter("tradesphere_customer_merges_total", "Customer merges performed");
  merges.inc();
  common::log(spdlog::level::info, "customer.merged",
              {{"merge_id", result.merge_id}, {"target_id", result.target_id}, {"sources", result.source_ids}});
  return result;
}

UndoResult CustomerMergeService::undo_merge(const domain::RequestContext& ctx, const std::string& merge_id) {
  require_admin(ctx, "undoing a merge");
  if (!domain::is_uuid(merge_id)) throw NotFoundError("merge " + merge_id + " not found");
  auto result = db_.transact(ctx, "undo_merge", [&](db::Tx& tx) {
    auto logs = db::load_merge(tx, ctx.company_id, merge_id);
    if (logs.empty()) throw NotFoundError("merge " + merge_id + " not found");
    const std::string target_id = logs[0].target_customer_id;
    if (logs[0].undone_at) throw ConflictError("merge " + merge_id + " was already undone at " + *logs[0].undone_at);

    std::vector<std::string> ids{target_id};
    for (const auto& l : logs) ids.push_back(l.source_customer_id);
    // chat rows move back and the sources' keys return: first the chat sync's locks of what
    // it reads as the target's (its sessions and keys, the sources' included, 0050)
    db::lock_chat_sync_of_customers(tx, ctx.company_id, ids);
    auto locked = db::lock_customers(tx, ctx.company_id, ids);
    const auto& target = locked.at(target_id);
    if (auto later = db::later_merge_into(tx, ctx.company_id, target_id, merge_id, logs[0].created_at))
      throw ConflictError("cannot undo merge " + merge_id + ": customer " + target_id +
                          " absorbed more customers later (merge " + *later + "); undo that merge first");
    if (target.status == "merged")
      throw ConflictError("cannot undo merge " + merge_id + ": customer " + target_id +
                          " was merged into customer " + *target.merged_into + " later" +
                          [&] {
                            auto by = db::merge_that_absorbed(tx, ctx.company_id, target_id);
                            return by ? " (merge " + *by + "); undo that merge first" : std::string();
                          }());
    int target_after = logs[0].field_choices.value("target_version_after", 0);
    if (target.version != target_after)
      throw ConflictError("cannot undo merge " + merge_id + ": customer " + target_id +
                          " was changed after the merge (version " + std::to_string(target_after) + " -> " +
                          std::to_string(target.version) + ")");
    for (const auto& l : logs) {
      const auto& s = locked.at(l.source_customer_id);
      int after = l.field_choices.value("source_version_after", 0);
      if (s.status != "merged" || s.merged_into != target_id || s.version != after)
        throw ConflictError("cannot undo merge " + merge_id + ": customer " + l.source_customer_id +
                            " was changed after the merge (status " + s.status + ", version " +
                            std::to_string(after) + " -> " + std::to_string(s.version) + ")");
      if (auto moved = db::first_moved_row_elsewhere(tx, ctx.company_id, target_id, l.moved_rows))
        throw ConflictError("cannot undo merge " + merge_id + ": " + *moved);
    }

    UndoResult r{merge_id, target_id, {}};
    for (const auto& l : logs) {
      db::restore_customer(tx, ctx.company_id, l.source_customer_id, l.source_snapshot);
      if (db::move_references_back(tx, ctx.company_id, l.source_customer_id, target_id, l.moved_rows) != 0)
        throw ConflictError("cannot undo merge " + merge_id + ": rows moved by it changed concurrently");
      r.source_ids.push_back(l.source_customer_id);
    }
    db::restore_customer(tx, ctx.company_id, target_id, logs[0].target_snapshot);
    db::mark_merge_undone(tx, ctx.company_id, merge_id);
    for (const auto& id : r.source_ids)
      db::insert_event(tx, ctx.company_id, id, "merge_undone", {{"merge_id", merge_id}, {"role", "source"}});
    db::insert_event(tx, ctx.company_id, target_id, "merge_undone",
                     {{"merge_id", merge_id}, {"role", "target"}, {"sources", r.source_ids}});
    return r;
  });
  static auto& undos =
      common::metrics().counter("tradesphere_customer_merge_undos_total", "Customer merges undone");
  undos.inc();
  common::log(spdlog::level::info, "customer.merge_undone", {{"merge_id", merge_id}, {"target_id", result.target_id}});
  return result;
}

MergeDetails CustomerMergeService::get_merge(const domain::RequestContext& ctx, const std::string& merge_id) {
  if (!domain::is_uuid(merge_id)) throw NotFoundError("merge " + merge_id + " not found");
  auto logs = db_.transact(
      ctx, "get_merge", [&](db::Tx& tx) { return db::load_merge(tx, ctx.company_id, merge_id); }, db::TxMode::kReadOnly);
  if (logs.empty()) throw NotFoundError("merge " + merge_id + " not found");
  const auto& first = logs.front();
  MergeDetails d{merge_id, first.target_customer_id, {}, first.field_choices, first.actor, first.created_at,
                 first.undone_at};
  for (const auto& l : logs) d.source_ids.push_back(l.source_customer_id);
  return d;
}

CustomerMergeService::MergePage CustomerMergeService::list_merges(const domain::RequestContext& ctx, int limit,
                                                                 const std::optional<std::string>& cursor) {
  std::optional<std::pair<std::string, std::string>> after;
  if (cursor) {
    auto values = domain::decode_page_token(*cursor, {"at", "i"});
    if (!values || !domain::is_uuid((*values)[1])) {
      throw domain::ValidationError("cursor", "not a cursor issued by this API");
    }
    after = std::make_pair((*values)[0], (*values)[1]);
  }
  auto rows = db_.transact(
      ctx, "list_merges", [&](db::Tx& tx) { return db::list_merges(tx, ctx.company_id, limit + 1, after); },
      db::TxMode::kReadOnly);
  MergePage page;
  for (auto& r : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      const auto& last = page.items.back();
      page.next_cursor = domain::encode_page_token({{"at", last.created_at}, {"i", last.merge_id}});
      break;
    }
    page.items.push_back(MergeDetails{r.merge_id, r.target_customer_id, r.source_customer_ids, r.field_choices,
                                      r.actor, r.created_at, r.undone_at});
  }
  return page;
}

}  // namespace tradesphere::services
