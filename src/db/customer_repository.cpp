#include "db/customer_repository.hpp"

#include <algorithm>

#include "db/customer_list_query.hpp"
#include "db/customer_rows.hpp"
#include "db/database.hpp"
#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

// The metrics come from their copy on the customer's row (migration 0040).
const std::string kSelectCustomer = std::string("SELECT ") + kCustomerColumns + ", " + kCopiedMetricsColumns + R"SQL(
  FROM customers c
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND ($3::boolean OR c.status = 'active')
)SQL";

const std::string kFindByEmail = std::string("SELECT ") + kCustomerColumns + R"SQL(
  FROM customers c
 WHERE c.company_id = $1::uuid AND c.status = 'active' AND lower(c.email) = lower(btrim($2::text))
 ORDER BY c.created_at, c.id
 LIMIT 1
)SQL";

// $1 company, $2 query, $3 LIKE-escaped query, $4 digits of a phone-like query (or NULL), $5 limit.
// Matching runs in search_customer_hits (migration 0011) over customer_search, where
// the trigram indexes are usable under row-level security; this joins the hits' rows
// (their metrics from the copy on the customer's row, migration 0040).
const std::string kSearch = std::string("SELECT ") + kCustomerColumns + ", " + kCopiedMetricsColumns + R"SQL(,
       h.score, h.by_name, h.by_email, h.by_phone
  FROM search_customer_hits($2::text, $3::text, $4::text, $5::integer) WITH ORDINALITY
       AS h (customer_id, score, by_name, by_email, by_phone, ord)
  JOIN customers c ON c.company_id = $1::uuid AND c.id = h.customer_id AND c.status = 'active'
 ORDER BY h.ord
)SQL";

const std::string kInsertCustomer = R"SQL(
INSERT INTO customers AS c (company_id, external_id, name, email, phone, address, notes, attributes,
                            lifecycle_stage, tags, source)
VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), $11)
RETURNING )SQL" + std::string(kCustomerColumns);

// $1 company $2 id $3 expected version (NULL = any); then (set?, value) pairs.
const std::string kUpdateCustomer = R"SQL(
UPDATE customers AS c SET
  external_id = CASE WHEN $4::boolean THEN $5::text ELSE c.external_id END,
  name = CASE WHEN $6::boolean THEN $7::text ELSE c.name END,
  email = CASE WHEN $8::boolean THEN $9::text ELSE c.email END,
  phone = CASE WHEN $10::boolean THEN $11::text ELSE c.phone END,
  address = CASE WHEN $12::boolean THEN $13::text ELSE c.address END,
  notes = CASE WHEN $14::boolean THEN $15::text ELSE c.notes END,
  attributes = CASE WHEN $16::boolean THEN $17::jsonb ELSE c.attributes END,
  lifecycle_stage = CASE WHEN $18::boolean THEN $19::text ELSE c.lifecycle_stage END,
  tags = CASE WHEN $20::boolean THEN ARRAY(SELECT jsonb_array_elements_text($21::jsonb)) ELSE c.tags END
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'active'
   AND ($3::integer IS NULL OR c.version = $3::integer)
RETURNING )SQL" + std::string(kCustomerColumns);

constexpr const char* kVersionAndStatus = R"SQL(
SELECT c.version, c.status FROM customers c WHERE c.company_id = $1::uuid AND c.id = $2::uuid
)SQL";

const std::string kSoftDelete = R"SQL(
UPDATE customers AS c SET status = 'deleted'
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'active'
   AND ($3::integer IS NULL OR c.version = $3::integer)
RETURNING )SQL" + std::string(kCustomerColumns);

const std::string kRestore = R"SQL(
UPDATE customers AS c SET status = 'active'
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'deleted'
RETURNING )SQL" + std::string(kCustomerColumns);

constexpr const char* kDeletedEmail = R"SQL(
SELECT c.email FROM customers c WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'deleted'
)SQL";

const std::string kLockActiveCustomer = std::string("SELECT ") + kCustomerColumns + R"SQL(
  FROM customers c
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'active'
   FOR UPDATE
)SQL";

const std::string kSetTags = R"SQL(
UPDATE customers AS c SET tags = ARRAY(SELECT jsonb_array_elements_text($3::jsonb))
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'active'
RETURNING )SQL" + std::string(kCustomerColumns);

// One set-based statement: ids as a jsonb array of strings ($2), stage ($3).
// Rows are locked in id order (no deadlock between two bulk updates); the row
// trigger writes one stage_changed event per customer whose stage changed.
// The ids not found: those whose lower-cased text is not a key of one jsonb object
// of the targets' ids (a valid id's lower case is its uuid's canonical text; an
// invalid one is never such a text). It was an anti join of ids with valid ⋈ target,
// which the planner, estimating one row per CTE, ran as a nested loop: 1000 × 1000
// uuid comparisons, ~350 ms of a 1000-customer update (docs/performance.md, "Sixth
// session of 2026-12-07"). `valid` stays MATERIALIZED: referenced once, it would be
// inlined and the regular expression's selectivity would make the planner read the
// whole company (a hash semi join over a sequential scan: 176 ms at 100k) instead of
// 1000 primary-key probes.
constexpr const char* kBulkStage = R"SQL(
WITH ids AS (
  SELECT DISTINCT x.raw FROM jsonb_array_elements_text($2::jsonb) AS x (raw)
), valid AS MATERIALIZED (
  SELECT ids.raw, lower(ids.raw)::uuid AS id FROM ids
   WHERE ids.raw ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
), target AS (
  SELECT c.id, c.lifecycle_stage
    FROM customers c
   WHERE c.company_id = $1::uuid AND c.status = 'active' AND c.id IN (SELECT id FROM valid)
   ORDER BY c.id
     FOR UPDATE
), upd AS (
  UPDATE customers AS c SET lifecycle_stage = $3::text
    FROM target t
   WHERE c.company_id = $1::uuid AND c.id = t.id AND t.lifecycle_stage <> $3::text
  RETURNING c.id
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM target),
       (SELECT coalesce(jsonb_agg(ids.raw ORDER BY ids.raw), '[]'::jsonb)::text FROM ids
         WHERE NOT coalesce((SELECT jsonb_object_agg(t.id::text, true) FROM target t) ? lower(ids.raw), false))
)SQL";

constexpr const char* kCustomerExists = R"SQL(
SELECT 1 FROM customers c
 WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND ($3::boolean OR c.status = 'active')
)SQL";

// Timeline: events, conversations (one entry per conversation, at its last
// message) and merges (as source or target), newest first; keyset after
// ($4 at, $5 kind, $6 id) when $3 (has cursor).
constexpr const char* kTimeline = R"SQL(
SELECT t.kind, t.id, t.type, t.at::text, t.data::text
  FROM (
    SELECT 'event'::text COLLATE "C" AS kind, lpad(e.id::text, 20, '0') COLLATE "C" AS id, e.event_type AS type,
           e.created_at AS at,
           jsonb_build_object('event_id', e.id, 'payload', e.payload, 'actor', e.actor,
                              'correlation_id', e.correlation_id) AS data
      FROM customer_events e
     WHERE e.company_id = $1::uuid AND e.customer_id = $2::uuid
    UNION ALL
    SELECT 'conversation', conversation_key(v.session_id, v.id) COLLATE "C", 'conversation', max(v.created_at),
           jsonb_build_object('session_key', conversation_key(v.session_id, v.id),
                              'session_id', max(v.session_id),
                              'first_message_at', min(v.created_at),
                              'last_message_at', max(v.created_at),
                              'message_count', count(*),
                              'last_user_message',
                              left((array_agg(v.user_message ORDER BY v.created_at DESC, v.id DESC))[1], 200))
      FROM "VC Usage" v
     WHERE v.company_id = $1::uuid AND v.customer_id = $2::uuid
     GROUP BY conversation_key(v.session_id, v.id)
    UNION ALL
    SELECT 'merge', l.id::text COLLATE "C",
           CASE WHEN l.source_customer_id = $2::uuid THEN 'merged_into' ELSE 'merged_from' END,
           l.created_at,
           jsonb_build_object('merge_log_id', l.id, 'source_customer_id', l.source_customer_id,
                              'target_customer_id', l.target_customer_id, 'actor', l.actor,
                              'undone_at', l.undone_at)
      FROM customer_merge_log l
     WHERE l.company_id = $1::uuid AND (l.source_customer_id = $2::uuid OR l.target_customer_id = $2::uuid)
  ) t
 WHERE NOT $3::boolean OR (t.at, t.kind, t.id) < ($4::timestamptz, $5::text COLLATE "C", $6::text COLLATE "C")
 ORDER BY t.at DESC, t.kind DESC, t.id DESC
 LIMIT $7::integer
)SQL";

// ---------------------------------------------------------------------------

const char* p(const std::optional<std::string>& o) { return o ? o->c_str() : nullptr; }
const char* pb(const std::optional<bool>& o) {
  if (!o) return nullptr;
  return *o ? "true" : "false";
}

std::string json_array(const std::vector<std::string>& values) { return nlohmann::json(values).dump(); }

std::string pg_bool(bool b) { return b ? "true" : "false"; }

[[noreturn]] void throw_missing_or_stale(Tx& tx, const std::string& company_id, const std::string& id,
                                         std::optional<int> expected_version) {
  auto row = tx.exec01(kVersionAndStatus, company_id, id);
  if (row && (*row)[1].as<std::string>() == "active" && expected_version) {
    int current = (*row)[0].as<int>();
    throw domain::VersionConflictError("customer " + id + " is at version " + std::to_string(current) +
                                           ", not " + std::to_string(*expected_version),
                                       current);
  }
  throw domain::NotFoundError("customer " + id + " not found");
}

struct TimelineCursor {
  std::string at, kind, id;
};

std::string encode_timeline_cursor(const TimelineEntry& e) {
  return domain::encode_page_token({{"at", e.at}, {"k", e.kind}, {"i", e.id}});
}

TimelineCursor decode_timeline_cursor(const std::string& text) {
  if (auto v = domain::decode_page_token(text, {"at", "k", "i"})) return {(*v)[0], (*v)[1], (*v)[2]};
  throw domain::ValidationError("cursor", "not a cursor of this timeline");
}

}  // namespace

namespace {
// One normalized email, one active customer (issue 15). Takes the chat sync's lock
// on the email's bucket (migration 0050), so that API writers of one email and the
// chat sync creating or linking a customer by it are serialized, then looks the key
// up among active customers other than `self`. Throws EmailInUseError naming the holder.
constexpr const char* kLockEmailKey =
    "SELECT chat_sync_lock_contacts($1::uuid, '{}'::text[], ARRAY[$2::text], '{}'::text[])";
constexpr const char* kLockChatSyncOfCustomers =
    "SELECT chat_sync_lock_customers($1::uuid, ARRAY(SELECT x::uuid FROM jsonb_array_elements_text($2::jsonb) x))";
constexpr const char* kEmailHolder = R"SQL(
SELECT k.customer_id::text
  FROM customer_matching_keys k
  JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id AND c.status = 'active'
 WHERE k.company_id = $1::uuid AND k.key_type = 'email' AND k.key_value = normalize_email($2)
   AND k.customer_id IS DISTINCT FROM $3::uuid
 ORDER BY c.created_at, c.id
 LIMIT 1
)SQL";

}  // namespace

std::optional<std::string> lock_email_and_find_holder(Tx& tx, const std::string& company_id, const std::string& email,
                                                      const std::optional<std::string>& self) {
  tx.exec(kLockEmailKey, company_id, email);
  if (auto holder = tx.exec01(kEmailHolder, company_id, email, self)) return (*holder)[0].as<std::string>();
  return std::nullopt;
}

void lock_chat_sync_of_customers(Tx& tx, const std::string& company_id, const std::vector<std::string>& ids) {
  tx.exec1(kLockChatSyncOfCustomers, company_id, json_array(ids));
}

namespace {
void require_email_free(Tx& tx, const std::string& company_id, const std::optional<std::string>& email,
                        const std::optional<std::string>& self) {
  if (!email || domain::trim(*email).empty()) return;
  if (auto holder = lock_email_and_find_holder(tx, company_id, *email, self)) throw domain::EmailInUseError(*holder);
}
}  // namespace

domain::CustomerRowsPage CustomerRepository::get_customer_rows(Tx& tx, const std::string& company_id,
                                                               const domain::CustomerFilters& filters) {
  std::optional<domain::Cursor> cursor;
  if (filters.cursor) cursor = domain::decode_cursor(*filters.cursor, filters.sort, filters.descending);

  std::optional<std::string> stage;
  if (filters.stage) stage = domain::to_string(*filters.stage);
  std::optional<std::string> source;
  if (filters.source) source = domain::to_string(*filters.source);
  std::optional<std::string> tags_any, tags_all;
  if (!filters.tags_any.empty()) tags_any = json_array(filters.tags_any);
  if (!filters.tags_all.empty()) tags_all = json_array(filters.tags_all);
  std::optional<std::string> query, digits;
  if (filters.query) {
    query = like_escape(*filters.query);
    digits = search_digits(*filters.query);
  }
  auto created_from = filter_timestamp(filters.created_from), created_to = filter_timestamp(filters.created_to);
  auto contact_from = filter_timestamp(filters.last_contact_from), contact_to = filter_timestamp(filters.last_contact_to);
  std::optional<std::string> cursor_value, cursor_id;
  if (cursor) {
    if (!cursor->last_value_null) cursor_value = cursor->last_value;
    cursor_id = cursor->last_id;
  }
  const std::string& sql = customer_list_sql(filters.sort, filters.descending);
  const std::string limit_plus_one = std::to_string(filters.limit + 1);

  // The result outlives the transaction (a pqxx::result owns its rows): the caller may
  // decode the rows after the connection went back to the pool.
  auto result = std::make_shared<const pqxx::result>(
      tx.exec(sql, company_id, p(stage), p(tags_any), p(tags_all), p(source), p(created_from), p(created_to),
              p(contact_from), p(contact_to), pb(filters.has_email), pb(filters.has_phone), p(query),
              pg_bool(cursor.has_value()), p(cursor_value), p(cursor_id), limit_plus_one,
              pg_bool(filters.include_total), p(digits)));
  const pqxx::result& r = *result;
  domain::CustomerRowsPage page;
  page.storage = result;
  if (filters.include_total && !r.empty()) page.total = r[0][0].as<std::int64_t>();
  // columns: total, customer (20), metrics (5), sort_value; the cursor's value in one of them
  const auto sort_value = static_cast<pqxx::row::size_type>(customer_list_cursor_column(filters.sort));
  page.items.reserve(std::min<std::size_t>(r.size(), static_cast<std::size_t>(filters.limit)));
  std::optional<pqxx::row::size_type> last;  // the row of the last item
  for (pqxx::result::size_type i = 0; i < r.size(); ++i) {
    const auto row = r[i];
    if (row[1].is_null()) continue;  // the empty page's placeholder row
    if (static_cast<int>(page.items.size()) == filters.limit) {
      // one more row exists: the next page starts after the last returned one
      const auto prev = r[*last];
      domain::Cursor next;
      next.sort = filters.sort;
      next.descending = filters.descending;
      next.last_value_null = prev[sort_value].is_null();
      next.last_value = next.last_value_null ? "" : prev[sort_value].c_str();
      next.last_id = prev[1].c_str();
      page.next_cursor = domain::encode_cursor(next);
      break;
    }
    page.items.push_back({customer_view(row, 1), metrics_view(row, 1 + kCustomerColumnCount)});
    last = i;
  }
  return page;
}

std::optional<domain::CustomerWithMetrics> CustomerRepository::find_customer_with_metrics(
    Tx& tx, const std::string& company_id, const std::string& id, bool include_deleted) {
  auto row = tx.exec01(kSelectCustomer, company_id, id, pg_bool(include_deleted));
  if (!row) return std::nullopt;
  return customer_with_metrics_from_row(*row);
}

std::optional<domain::Customer> CustomerRepository::find_by_email(Tx& tx, const std::string& company_id,
                                                                  const std::string& email) {
  auto row = tx.exec01(kFindByEmail, company_id, email);
  if (!row) return std::nullopt;
  return customer_from_row(*row);
}

std::vector<SearchHit> CustomerRepository::search_customers(Tx& tx, const std::string& company_id,
                                                            const std::string& query, int limit) {
  const std::string escaped = like_escape(query);
  const auto digits = search_digits(query);
  std::vector<SearchHit> hits;
  for (const auto& row : tx.exec(kSearch, company_id, query, escaped, p(digits), std::to_string(limit))) {
    SearchHit hit;
    hit.customer = customer_with_metrics_from_row(row);
    const int base = kCustomerColumnCount + kMetricsColumnCount;
    hit.score = row[base].as<double>();
    if (row[base + 1].as<std::optional<bool>>().value_or(false)) hit.matched.push_back("name");
    if (row[base + 2].as<std::optional<bool>>().value_or(false)) hit.matched.push_back("email");
    if (row[base + 3].as<std::optional<bool>>().value_or(false)) hit.matched.push_back("phone");
    hits.push_back(std::move(hit));
  }
  return hits;
}

domain::Customer CustomerRepository::insert_customer(Tx& tx, const std::string& company_id,
                                                     const domain::NewCustomer& customer) {
  require_email_free(tx, company_id, customer.email, std::nullopt);
  return customer_from_row(tx.exec1(kInsertCustomer, company_id, p(customer.external_id), p(customer.name),
                                    p(customer.email), p(customer.phone), p(customer.address), p(customer.notes),
                                    customer.attributes.dump(), std::string(domain::to_string(customer.stage)),
                                    json_array(customer.tags), std::string(domain::to_string(customer.source))));
}

domain::Customer CustomerRepository::update_customer(Tx& tx, const std::string& company_id, const std::string& id,
                                                     const domain::CustomerPatch& patch,
                                                     std::optional<int> expected_version) {
  auto set = [](const domain::Settable<std::string>& s) { return pg_bool(s.has_value()); };
  auto val = [](const domain::Settable<std::string>& s) -> const char* { return s && *s ? (*s)->c_str() : nullptr; };
  const std::optional<std::string> attributes =
      patch.attributes ? std::optional<std::string>(patch.attributes->dump()) : std::nullopt;
  const std::optional<std::string> stage =
      patch.stage ? std::optional<std::string>(domain::to_string(*patch.stage)) : std::nullopt;
  const std::optional<std::string> tags = patch.tags ? std::optional<std::string>(json_array(*patch.tags)) : std::nullopt;
  const std::optional<std::string> version =
      expected_version ? std::optional<std::string>(std::to_string(*expected_version)) : std::nullopt;
  if (patch.email && *patch.email) require_email_free(tx, company_id, **patch.email, id);
  auto row = tx.exec01(kUpdateCustomer, company_id, id, p(version), set(patch.external_id), val(patch.external_id),
                       set(patch.name), val(patch.name), set(patch.email), val(patch.email), set(patch.phone),
                       val(patch.phone), set(patch.address), val(patch.address), set(patch.notes), val(patch.notes),
                       pg_bool(attributes.has_value()), p(attributes), pg_bool(stage.has_value()), p(stage),
                       pg_bool(tags.has_value()), p(tags));
  if (!row) throw_missing_or_stale(tx, company_id, id, expected_version);
  return customer_from_row(*row);
}

domain::Customer CustomerRepository::soft_delete_customer(Tx& tx, const std::string& company_id,
                                                          const std::string& id,
                                                          std::optional<int> expected_version) {
  const std::optional<std::string> version =
      expected_version ? std::optional<std::string>(std::to_string(*expected_version)) : std::nullopt;
  // the chat sync's locks of the customer's sessions and keys (0050): a chat sync that
  // read them has committed, or waits and reads the deletion (no keys: no link)
  if (domain::is_uuid(id)) lock_chat_sync_of_customers(tx, company_id, {id});
  auto row = tx.exec01(kSoftDelete, company_id, id, p(version));
  if (!row) throw_missing_or_stale(tx, company_id, id, expected_version);
  return customer_from_row(*row);
}

domain::Customer CustomerRepository::restore_customer(Tx& tx, const std::string& company_id, const std::string& id) {
  // its email may have a new owner meanwhile: the email's bucket (0050) first, then the
  // customer row, the order the chat sync takes them in
  std::optional<std::string> email_before;
  if (domain::is_uuid(id)) {
    if (auto deleted = tx.exec01(kDeletedEmail, company_id, id)) {
      email_before = (*deleted)[0].as<std::optional<std::string>>();
      require_email_free(tx, company_id, email_before, id);
    }
  }
  auto row = tx.exec01(kRestore, company_id, id);
  if (!row) {
    auto state = tx.exec01(kVersionAndStatus, company_id, id);
    if (state && (*state)[1].as<std::string>() == "active") {
      throw domain::ConflictError("customer " + id + " is not deleted");
    }
    throw domain::NotFoundError("deleted customer " + id + " not found");
  }
  auto restored = customer_from_row(*row);
  if (restored.email != email_before) require_email_free(tx, company_id, restored.email, id);  // changed meanwhile
  return restored;
}

std::optional<domain::Customer> CustomerRepository::lock_active_customer(Tx& tx, const std::string& company_id,
                                                                         const std::string& id) {
  auto row = tx.exec01(kLockActiveCustomer, company_id, id);
  if (!row) return std::nullopt;
  return customer_from_row(*row);
}

domain::Customer CustomerRepository::set_tags(Tx& tx, const std::string& company_id, const std::string& id,
                                              const std::vector<std::string>& tags) {
  return customer_from_row(tx.exec1(kSetTags, company_id, id, json_array(tags)));
}

BulkStageResult CustomerRepository::bulk_update_lifecycle_stage(Tx& tx, const std::string& company_id,
                                                                const std::vector<std::string>& ids,
                                                                domain::LifecycleStage stage) {
  auto row = tx.exec1(kBulkStage, company_id, json_array(ids), std::string(domain::to_string(stage)));
  BulkStageResult r;
  r.updated = row[0].as<std::int64_t>();
  r.unchanged = row[1].as<std::int64_t>() - r.updated;
  r.not_found = nlohmann::json::parse(row[2].as<std::string>()).get<std::vector<std::string>>();
  return r;
}

bool CustomerRepository::customer_exists(Tx& tx, const std::string& company_id, const std::string& id,
                                         bool include_deleted) {
  return tx.exec01(kCustomerExists, company_id, id, pg_bool(include_deleted)).has_value();
}

TimelinePage CustomerRepository::get_customer_timeline(Tx& tx, const std::string& company_id, const std::string& id,
                                                       int limit, const std::optional<std::string>& cursor) {
  std::optional<TimelineCursor> after;
  if (cursor) after = decode_timeline_cursor(*cursor);
  auto rows = tx.exec(kTimeline, company_id, id, pg_bool(after.has_value()), after ? after->at.c_str() : nullptr,
                      after ? after->kind.c_str() : nullptr, after ? after->id.c_str() : nullptr,
                      std::to_string(limit + 1));
  TimelinePage page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_cursor = encode_timeline_cursor(page.items.back());
      break;
    }
    TimelineEntry e;
    e.kind = row[0].as<std::string>();
    e.id = row[1].as<std::string>();
    e.type = row[2].as<std::string>();
    e.at = domain::rfc3339_or_same(row[3].as<std::string>());
    e.data = nlohmann::json::parse(row[4].as<std::string>());
    // jsonb writes timestamps as "…T…+00:00"; the API writes RFC 3339 UTC.
    for (const char* key : {"first_message_at", "last_message_at", "undone_at"}) {
      auto it = e.data.find(key);
      if (it != e.data.end() && it->is_string()) *it = domain::rfc3339_or_same(it->get<std::string>());
    }
    page.items.push_back(std::move(e));
  }
  // The cursor keeps the padded sort id; callers see the natural id.
  for (auto& e : page.items) {
    if (e.kind == "event") e.id = std::to_string(e.data.value("event_id", std::int64_t{0}));
  }
  return page;
}

}  // namespace tradesphere::db
