#include "db/duplicate_repository.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>
#include <limits>

#include "db/sql_arrays.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kSelectActiveMatchInputs = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM customers c
 WHERE c.company_id = $1 AND c.status = 'active'
 ORDER BY c.id
)SQL";

constexpr const char* kSelectMatchInput = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM customers c
 WHERE c.company_id = $1 AND c.id = $2
)SQL";

// Blocking for one customer: duplicate_candidate_ids (migration 0011) matches on the
// indexed customer_search rows of the current tenant.
constexpr const char* kSelectCandidates = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM duplicate_candidate_ids($2::uuid, 1000) AS d (id)
  JOIN customers c ON c.company_id = $1 AND c.id = d.id AND c.status = 'active'
 ORDER BY c.id
)SQL";

constexpr const char* kSelectDismissals = R"SQL(
SELECT d.customer_a::text, d.customer_b::text
  FROM duplicate_dismissals d
 WHERE d.company_id = $1 AND ($2::uuid IS NULL OR d.customer_a = $2 OR d.customer_b = $2)
)SQL";

constexpr const char* kInsertDismissal = R"SQL(
INSERT INTO duplicate_dismissals (company_id, customer_a, customer_b, reason)
VALUES ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid), $4)
ON CONFLICT DO NOTHING
RETURNING 1
)SQL";

constexpr const char* kSelectModel = R"SQL(
SELECT parameters::text FROM duplicate_models WHERE company_id = $1
)SQL";

constexpr const char* kSelectModelStamp = "SELECT trained_at::text FROM duplicate_models WHERE company_id = $1";

constexpr const char* kUpsertModel = R"SQL(
INSERT INTO duplicate_models (company_id, parameters, source, trained_records, trained_pairs, trained_at, trained_by)
VALUES ($1, $2::jsonb, $3, $4, $5, now(), $6)
ON CONFLICT (company_id) DO UPDATE
   SET parameters = EXCLUDED.parameters, source = EXCLUDED.source, trained_records = EXCLUDED.trained_records,
       trained_pairs = EXCLUDED.trained_pairs, trained_at = EXCLUDED.trained_at, trained_by = EXCLUDED.trained_by
)SQL";

constexpr const char* kClaimQueue = "SELECT id::text FROM claim_duplicate_queue($1) AS q (id)";
constexpr const char* kClearQueue = "SELECT clear_duplicate_queue()";
// chat_lock_key (0006) hashes a company and a name into the advisory key space
// the chat sync uses; "duplicates" is a name of its own
constexpr const char* kLockDuplicateWrites = "SELECT pg_advisory_xact_lock(chat_lock_key($1::uuid, 'duplicates', ''))";
constexpr const char* kTryLockDuplicateWrites =
    "SELECT pg_try_advisory_xact_lock(chat_lock_key($1::uuid, 'duplicates', ''))";
constexpr const char* kQueueCompanies = "SELECT company_id::text, queued FROM duplicate_queue_companies()";

constexpr const char* kDeletePairsOf = R"SQL(
DELETE FROM duplicate_candidates
 WHERE company_id = $1 AND (customer_a = $2::uuid OR customer_b = $2::uuid)
)SQL";

// A rebuild mostly finds the pairs already stored, with the same scores: it reads
// the stored pairs' scores, and writes only the new pairs and those whose score
// changed, and deletes only the pairs it no longer finds. Deleting and
// re-inserting every pair cost 37k row writes, 74k foreign-key checks and as many
// dead tuples per rebuild of a 100k company (docs/performance.md).
constexpr const char* kSelectStoredPairScores =
    "SELECT customer_a::text, customer_b::text, score FROM duplicate_candidates WHERE company_id = $1";
constexpr const char* kDeletePairs = R"SQL(
DELETE FROM duplicate_candidates d
 USING unnest($2::uuid[], $3::uuid[]) AS k (a, b)
 WHERE d.company_id = $1 AND d.customer_a = k.a AND d.customer_b = k.b
)SQL";

// One statement per batch: the pairs arrive as one jsonb array.
constexpr const char* kInsertPairs = R"SQL(
INSERT INTO duplicate_candidates (company_id, customer_a, customer_b, score, evidence)
SELECT $1, least(p.a, p.b), greatest(p.a, p.b), p.score, p.evidence
  FROM jsonb_to_recordset($2::jsonb) AS p (a uuid, b uuid, score float8, evidence jsonb)
ON CONFLICT (company_id, customer_a, customer_b) DO UPDATE
   SET score = EXCLUDED.score, evidence = EXCLUDED.evidence, scored_at = now()
)SQL";

constexpr const char* kSelectPairs = R"SQL(
SELECT d.customer_a::text, d.customer_b::text, d.score, d.evidence::text,
       ca.external_id, ca.name, cb.external_id, cb.name
  FROM duplicate_candidates d
  JOIN customers ca ON ca.company_id = d.company_id AND ca.id = d.customer_a AND ca.status = 'active'
  JOIN customers cb ON cb.company_id = d.company_id AND cb.id = d.customer_b AND cb.status = 'active'
 WHERE d.company_id = $1 AND d.score >= $2
   AND ($3::uuid IS NULL OR d.customer_a = $3::uuid OR d.customer_b = $3::uuid)
   AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals x
                    WHERE x.company_id = d.company_id AND x.customer_a = d.customer_a AND x.customer_b = d.customer_b)
 ORDER BY d.score DESC, d.customer_a, d.customer_b
)SQL";

// The whole company's pairs for grouping: no join (at 1M customers the two
// customer lookups per pair were most of a cold GET /v1/duplicates); the names
// of the groups shown are read afterwards (kSelectActiveLabels).
constexpr const char* kSelectPairScores = R"SQL(
SELECT d.customer_a::text, d.customer_b::text, d.score
  FROM duplicate_candidates d
 WHERE d.company_id = $1 AND d.score >= $2
   AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals x
                    WHERE x.company_id = d.company_id AND x.customer_a = d.customer_a AND x.customer_b = d.customer_b)
)SQL";
// The keys logged after `since` (migration 0033) with their current rows.
constexpr const char* kSelectOldestPairChange = R"SQL(
SELECT min(c.version) FROM duplicate_pair_changes c WHERE c.company_id = $1
)SQL";
constexpr const char* kSelectPairChanges = R"SQL(
SELECT k.customer_a::text, k.customer_b::text,
       (SELECT d.score FROM duplicate_candidates d
         WHERE d.company_id = $1 AND d.customer_a = k.customer_a AND d.customer_b = k.customer_b AND d.score >= $4
           AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals x
                            WHERE x.company_id = d.company_id AND x.customer_a = d.customer_a AND x.customer_b = d.customer_b))
  FROM (SELECT DISTINCT c.customer_a, c.customer_b FROM duplicate_pair_changes c
         WHERE c.company_id = $1 AND c.version > $2 AND c.version <= $3) k
)SQL";
constexpr const char* kSelectActiveLabels = R"SQL(
SELECT c.id::text, c.external_id, c.name FROM customers c
 WHERE c.company_id = $1 AND c.id = ANY ($2::uuid[]) AND c.status = 'active'
)SQL";

// ---- the stored blocking index (migration 0022) ------------------------------
// Owner-only table, reached through SECURITY DEFINER doors that act on the tenant
// in app.company_id (the GIN operators are not LEAKPROOF: under a forced policy
// they could not use the index).
constexpr const char* kStoreBlocking = "SELECT store_duplicate_blocking($1::uuid[], $2::integer[], $3::bigint[])";
constexpr const char* kStoredBlocking = "SELECT customer_id::text, keys::text FROM duplicate_blocking_rows()";
constexpr const char* kFinishBlockingOf = "SELECT finish_duplicate_blocking_of($1::uuid[], $2)";
constexpr const char* kStoreBlockSizes = "SELECT store_duplicate_block_sizes($1::bigint[], $2::integer[])";
constexpr const char* kBlockingComplete = "SELECT 1 FROM duplicate_blocking_companies WHERE company_id = $1";
constexpr const char* kSelectBlockedCandidates = R"SQL(
SELECT c.id::text, c.external_id, c.name, coalesce(c.email, c.attributes->>'invalid_email'),
       coalesce(c.phone, c.attributes->>'invalid_phone'), c.address
  FROM duplicate_blocking_candidates($2::uuid, $3::bigint[], $4::integer, $5::integer) AS d (id)
  JOIN customers c ON c.company_id = $1 AND c.id = d.id AND c.status = 'active'
 ORDER BY c.id
)SQL";

// `statement` takes ($1 company, $2 a jsonb array of {a, b, score, evidence}).
void insert_pairs(Tx& tx, const std::string& company_id, const std::vector<StoredPair>& pairs,
                  const char* statement = kInsertPairs) {
  constexpr std::size_t kBatch = 1000;
  for (std::size_t from = 0; from < pairs.size(); from += kBatch) {
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t i = from; i < std::min(pairs.size(), from + kBatch); ++i)
      batch.push_back({{"a", pairs[i].a}, {"b", pairs[i].b}, {"score", pairs[i].score}, {"evidence", pairs[i].evidence}});
    tx.exec(statement, company_id, batch.dump());
  }
}

// "{1,-2,3}" (PostgreSQL's bigint[] output) -> {1, -2, 3}
std::vector<std::int64_t> parse_bigint_array(std::string_view text) {
  std::vector<std::int64_t> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}')
    throw domain::RepositoryError("a stored blocking row that is not a bigint array");
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  while (p < end) {
    std::int64_t v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) throw domain::RepositoryError("a stored blocking key that is not a bigint");
    out.push_back(v);
    p = next < end && *next == ',' ? next + 1 : next;
  }
  return out;
}

domain::MatchInput match_input_from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(),
          r[1].as<std::optional<std::string>>(),
          r[2].as<std::optional<std::string>>(),
          r[3].as<std::optional<std::string>>(),
          r[4].as<std::optional<std::string>>(),
          r[5].as<std::optional<std::string>>()};
}

}  // namespace

std::vector<domain::MatchInput> load_active_match_inputs(Tx& tx, const std::string& company_id) {
  std::vector<domain::MatchInput> out;
  auto rows = tx.exec(kSelectActiveMatchInputs, company_id);
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(match_input_from_row(r));
  return out;
}

std::optional<domain::MatchInput> load_match_input(Tx& tx, const std::string& company_id, const std::string& id) {
  auto r = tx.exec01(kSelectMatchInput, company_id, id);
  if (!r) return std::nullopt;
  return match_input_from_row(*r);
}

std::vector<domain::MatchInput> load_candidates(Tx& tx, const std::string& company_id, const std::string& id) {
  std::vector<domain::MatchInput> out;
  for (const auto& r : tx.exec(kSelectCandidates, company_id, id)) out.push_back(match_input_from_row(r));
  return out;
}

std::set<std::pair<std::string, std::string>> load_dismissals(Tx& tx, const std::string& company_id,
                                                              const std::optional<std::string>& customer_id) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& r : tx.exec(kSelectDismissals, company_id, customer_id))
    out.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

bool insert_dismissal(Tx& tx, const std::string& company_id, const std::string& a, const std::string& b,
                      const std::optional<std::string>& reason) {
  return !tx.exec(kInsertDismissal, company_id, a, b, reason).empty();
}

std::vector<std::string> claim_duplicate_queue(Tx& tx, std::size_t limit) {
  std::vector<std::string> out;
  for (const auto& r : tx.exec(kClaimQueue, static_cast<long long>(limit))) out.push_back(r[0].as<std::string>());
  return out;
}

void lock_duplicate_writes(Tx& tx, const std::string& company_id) { tx.exec(kLockDuplicateWrites, company_id); }

bool try_lock_duplicate_writes(Tx& tx, const std::string& company_id) {
  return tx.exec(kTryLockDuplicateWrites, company_id)[0][0].as<bool>();
}

std::size_t clear_duplicate_queue(Tx& tx) { return tx.exec(kClearQueue)[0][0].as<std::size_t>(); }

std::vector<std::pair<std::string, std::size_t>> duplicate_queue_companies(Tx& tx) {
  std::vector<std::pair<std::string, std::size_t>> out;
  for (const auto& r : tx.exec(kQueueCompanies)) out.emplace_back(r[0].as<std::string>(), r[1].as<std::size_t>());
  return out;
}

void replace_duplicate_pairs_of(Tx& tx, const std::string& company_id, const std::string& customer_id,
                                const std::vector<StoredPair>& pairs) {
  tx.exec(kDeletePairsOf, company_id, customer_id);
  insert_pairs(tx, company_id, pairs);
}

std::size_t store_blocking_keys(Tx& tx, const std::vector<BlockingEntry>& entries) {
  constexpr std::size_t kBatch = 5000;
  std::size_t written = 0;
  for (std::size_t from = 0; from < entries.size(); from += kBatch) {
    std::string ids = "{";
    std::vector<std::int64_t> lengths, keys;
    for (std::size_t i = from; i < std::min(entries.size(), from + kBatch); ++i) {
      if (!domain::is_uuid(entries[i].customer_id))
        throw domain::RepositoryError("blocking keys for a customer id that is not a uuid");
      if (i > from) ids += ',';
      ids += entries[i].customer_id;  // a uuid: nothing to quote in an array literal
      lengths.push_back(static_cast<std::int64_t>(entries[i].keys.size()));
      keys.insert(keys.end(), entries[i].keys.begin(), entries[i].keys.end());
    }
    written += tx.exec1(kStoreBlocking, ids + "}", bigint_array(lengths), bigint_array(keys))[0].as<std::size_t>();
  }
  return written;
}

BlockingSync replace_all_blocking_keys(Tx& tx, const std::vector<BlockingEntry>& entries,
                                       const std::vector<domain::BlockSize>& large_blocks) {
  BlockingSync out;
  // the stored keys, compared here: only changed customers are sent, and only the
  // rows of customers no longer indexed are removed (0029)
  std::unordered_map<std::string, std::vector<std::int64_t>> stored;
  for (const auto& r : tx.exec(kStoredBlocking)) stored.emplace(r[0].as<std::string>(), parse_bigint_array(std::string_view(r[1].c_str(), r[1].size())));
  std::vector<BlockingEntry> changed;
  for (const auto& e : entries) {
    auto it = stored.find(e.customer_id);
    if (it == stored.end() || it->second != e.keys) changed.push_back(e);
    if (it != stored.end()) stored.erase(it);
  }
  out.written = store_blocking_keys(tx, changed);
  std::string gone = "{";
  for (const auto& [id, keys] : stored) {
    if (gone.size() > 1) gone += ',';
    gone += id;
  }
  out.removed =
      tx.exec1(kFinishBlockingOf, gone + "}", static_cast<long long>(entries.size()))[0].as<std::size_t>();
  std::vector<std::int64_t> keys, sizes;
  keys.reserve(large_blocks.size());
  sizes.reserve(large_blocks.size());
  for (const auto& b : large_blocks) {
    keys.push_back(b.key);
    sizes.push_back(static_cast<std::int64_t>(std::min<std::size_t>(b.size, static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))));
  }
  out.large_blocks = tx.exec1(kStoreBlockSizes, bigint_array(keys), bigint_array(sizes))[0].as<std::size_t>();
  return out;
}

bool blocking_index_complete(Tx& tx, const std::string& company_id) {
  return tx.exec01(kBlockingComplete, company_id).has_value();
}

std::vector<domain::MatchInput> load_blocked_candidates(Tx& tx, const std::string& company_id, const std::string& id,
                                                        const std::vector<std::int64_t>& lookup,
                                                        std::size_t max_block_size, std::size_t limit) {
  std::vector<domain::MatchInput> out;
  if (lookup.empty()) return out;
  for (const auto& r : tx.exec(kSelectBlockedCandidates, company_id, id, bigint_array(lookup),
                               static_cast<int>(max_block_size), static_cast<int>(limit)))
    out.push_back(match_input_from_row(r));
  return out;
}

static std::pair<std::string, std::string> ordered(const std::string& a, const std::string& b) {
  return a < b ? std::pair{a, b} : std::pair{b, a};  // lower-case uuid text sorts as the uuid does
}

std::size_t replace_all_duplicate_pairs(Tx& tx, const std::string& company_id, const std::vector<StoredPair>& pairs) {
  std::map<std::pair<std::string, std::string>, double> stored;
  for (const auto& r : tx.exec(kSelectStoredPairScores, company_id))
    stored.emplace(std::pair{r[0].as<std::string>(), r[1].as<std::string>()}, r[2].as<double>());
  // A pair whose score is unchanged keeps its stored evidence: the score is a sum
  // of the evidence's weights, so the same double means the same evidence.
  std::vector<StoredPair> changed;
  for (const auto& p : pairs) {
    auto it = stored.find(ordered(p.a, p.b));
    if (it == stored.end()) {
      changed.push_back(p);
      continue;
    }
    if (it->second != p.score) changed.push_back(p);
    stored.erase(it);  // what remains is gone
  }
  std::string gone_a = "{", gone_b = "{";
  for (const auto& [key, score] : stored) {
    if (gone_a.size() > 1) gone_a += ',', gone_b += ',';
    gone_a += key.first;  // uuids read from the table: nothing to quote
    gone_b += key.second;
  }
  if (!stored.empty()) tx.exec(kDeletePairs, company_id, gone_a + "}", gone_b + "}");
  insert_pairs(tx, company_id, changed);
  return changed.size() + stored.size();
}

std::vector<StoredPairView> load_duplicate_pairs(Tx& tx, const std::string& company_id, double min_score,
                                                 const std::optional<std::string>& customer_id) {
  std::vector<StoredPairView> out;
  for (const auto& r : tx.exec(kSelectPairs, company_id, min_score, customer_id)) {
    StoredPairView v;
    v.pair = {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<double>(), nullptr};
    v.evidence_text = r[3].as<std::string>();
    v.a.id = v.pair.a;
    v.a.external_id = r[4].as<std::optional<std::string>>();
    v.a.name = r[5].as<std::optional<std::string>>();
    v.b.id = v.pair.b;
    v.b.external_id = r[6].as<std::optional<std::string>>();
    v.b.name = r[7].as<std::optional<std::string>>();
    out.push_back(std::move(v));
  }
  return out;
}

std::int64_t duplicate_pairs_version(Tx& tx, const std::string& company_id) {
  auto rows = tx.exec("SELECT version FROM duplicate_pair_versions WHERE company_id = $1", company_id);
  return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
}

std::map<std::pair<std::string, std::string>, std::string> load_pair_evidence(
    Tx& tx, const std::string& company_id, const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  if (pairs.empty()) return out;
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [a, b] : pairs) keys.push_back({{"a", a}, {"b", b}});
  const auto rows = tx.exec(
      "SELECT d.customer_a::text, d.customer_b::text, d.evidence::text "
      "  FROM jsonb_to_recordset($2::jsonb) AS k(a uuid, b uuid) "
      "  JOIN duplicate_candidates d ON d.company_id = $1 AND d.customer_a = k.a AND d.customer_b = k.b",
      company_id, keys.dump());
  for (const auto& r : rows) out[{r[0].as<std::string>(), r[1].as<std::string>()}] = r[2].as<std::string>();
  return out;
}

namespace {
std::vector<domain::PairChange> pair_changes(const pqxx::result& rows) {
  std::vector<domain::PairChange> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto a = domain::uuid_bytes(std::string_view(r[0].c_str(), r[0].size())),
         b = domain::uuid_bytes(std::string_view(r[1].c_str(), r[1].size()));
    if (!a || !b) throw domain::RepositoryError("a stored duplicate pair without two customer ids");
    out.push_back({*a, *b, r[2].is_null() ? std::nullopt : std::optional<double>(r[2].as<double>())});
  }
  return out;
}
}  // namespace

std::vector<domain::PairChange> load_pair_scores(Tx& tx, const std::string& company_id, double min_score) {
  return pair_changes(tx.exec(kSelectPairScores, company_id, min_score));
}

std::optional<std::vector<domain::PairChange>> load_pair_changes(Tx& tx, const std::string& company_id,
                                                                 std::int64_t since, std::int64_t until,
                                                                 double min_score) {
  const auto oldest = tx.exec(kSelectOldestPairChange, company_id)[0][0];
  if (oldest.is_null() || oldest.as<std::int64_t>() > since + 1) return std::nullopt;
  return pair_changes(tx.exec(kSelectPairChanges, company_id, since, until, min_score));
}

std::map<std::string, domain::MatchInput> load_active_labels(Tx& tx, const std::string& company_id,
                                                            const std::vector<std::string>& ids) {
  std::map<std::string, domain::MatchInput> out;
  if (ids.empty()) return out;
  std::string array = "{";
  for (const auto& id : ids) {
    if (!domain::is_uuid(id)) throw domain::RepositoryError("a customer id that is not a uuid");
    if (array.size() > 1) array += ',';
    array += id;
  }
  for (const auto& r : tx.exec(kSelectActiveLabels, company_id, array + "}")) {
    domain::MatchInput m;
    m.id = r[0].as<std::string>();
    m.external_id = r[1].as<std::optional<std::string>>();
    m.name = r[2].as<std::optional<std::string>>();
    out.emplace(m.id, std::move(m));
  }
  return out;
}

std::optional<nlohmann::json> load_duplicate_model(Tx& tx, const std::string& company_id) {
  auto rows = tx.exec(kSelectModel, company_id);
  if (rows.empty()) return std::nullopt;
  return nlohmann::json::parse(rows[0][0].as<std::string>());
}

std::optional<std::string> duplicate_model_stamp(Tx& tx, const std::string& company_id) {
  auto r = tx.exec01(kSelectModelStamp, company_id);
  if (!r) return std::nullopt;
  return (*r)[0].as<std::string>();
}

void store_duplicate_model(Tx& tx, const std::string& company_id, const domain::MatchModel& model,
                           const std::optional<std::string>& actor) {
  tx.exec(kUpsertModel, company_id, domain::to_json(model).dump(), model.source,
          static_cast<long long>(model.trained_records), static_cast<long long>(model.trained_pairs), actor);
}

}  // namespace tradesphere::db
