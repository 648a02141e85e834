#include "db/merge_repository.hpp"

#include "db/sql_arrays.hpp"
#include "domain/errors.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kSelectCustomerForeignKeys = R"SQL(
SELECT cl.relname AS tbl, c.conname,
       (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
          FROM unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols
  FROM pg_constraint c
  JOIN pg_class cl ON cl.oid = c.conrelid
 WHERE c.contype = 'f' AND c.confrelid = 'public.customers'::regclass
 ORDER BY 1, 2
)SQL";

constexpr const char* kLockCustomers = R"SQL(
SELECT c.id::text, c.status, c.merged_into_customer_id::text, c.version, c.name, c.email, c.phone, c.address,
       c.notes, c.lifecycle_stage, to_jsonb(c.tags)::text, c.source, c.updated_at::text, to_jsonb(c)::text
  FROM customers c
 WHERE c.company_id = $1 AND c.id = ANY($2::uuid[])
 ORDER BY c.id
   FOR UPDATE
)SQL";

constexpr const char* kSelectAbsorbingMerge = R"SQL(
SELECT l.field_choices ->> 'merge_id'
  FROM customer_merge_log l
 WHERE l.company_id = $1 AND l.source_customer_id = $2 AND l.undone_at IS NULL
 ORDER BY l.created_at DESC
 LIMIT 1
)SQL";

constexpr const char* kCountReferences = R"SQL(
SELECT (SELECT count(*) FROM "VC Usage" v WHERE v.company_id = $1 AND v.customer_id = $2),
       (SELECT count(DISTINCT conversation_key(v.session_id, v.id)) FROM "VC Usage" v
         WHERE v.company_id = $1 AND v.customer_id = $2),
       (SELECT count(*) FROM customer_events e WHERE e.company_id = $1 AND e.customer_id = $2),
       (SELECT count(*) FROM customer_matching_keys k WHERE k.company_id = $1 AND k.customer_id = $2)
)SQL";

constexpr const char* kMoveChatRows = R"SQL(
WITH m AS (
  UPDATE "VC Usage" SET customer_id = $3 WHERE company_id = $1 AND customer_id = $2 RETURNING id
)
SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]'::jsonb)::text FROM m
)SQL";

constexpr const char* kMoveEvents = R"SQL(
WITH m AS (
  UPDATE customer_events SET customer_id = $3 WHERE company_id = $1 AND customer_id = $2 RETURNING id
)
SELECT coalesce(jsonb_agg(m.id ORDER BY m.id), '[]'::jsonb)::text FROM m
)SQL";

constexpr const char* kMoveChatRowsBack = R"SQL(
WITH m AS (
  UPDATE "VC Usage" SET customer_id = $2
   WHERE company_id = $1 AND customer_id = $3
     AND id IN (SELECT jsonb_array_elements_text($4::jsonb)::bigint)
  RETURNING id
)
SELECT count(*) FROM m
)SQL";

constexpr const char* kMoveEventsBack = R"SQL(
WITH m AS (
  UPDATE customer_events SET customer_id = $2
   WHERE company_id = $1 AND customer_id = $3
     AND id IN (SELECT jsonb_array_elements_text($4::jsonb)::bigint)
  RETURNING id
)
SELECT count(*) FROM m
)SQL";

constexpr const char* kChatRowElsewhere = R"SQL(
SELECT x.id
  FROM (SELECT jsonb_array_elements_text($3::jsonb)::bigint AS id) x
  LEFT JOIN "VC Usage" v ON v.company_id = $1 AND v.id = x.id
 WHERE v.customer_id IS DISTINCT FROM $2::uuid
 ORDER BY x.id LIMIT 1
)SQL";

constexpr const char* kEventElsewhere = R"SQL(
SELECT x.id
  FROM (SELECT jsonb_array_elements_text($3::jsonb)::bigint AS id) x
  LEFT JOIN customer_events e ON e.company_id = $1 AND e.id = x.id
 WHERE e.customer_id IS DISTINCT FROM $2::uuid
 ORDER BY x.id LIMIT 1
)SQL";

constexpr const char* kUpdateTargetFields = R"SQL(
UPDATE customers
   SET name = $3, email = $4, phone = $5, address = $6, notes = $7, lifecycle_stage = $8,
       tags = ARRAY(SELECT jsonb_array_elements_text($9::jsonb))
 WHERE company_id = $1 AND id = $2
RETURNING version
)SQL";

constexpr const char* kMarkMerged = R"SQL(
UPDATE customers SET status = 'merged', merged_into_customer_id = $3
 WHERE company_id = $1 AND id = $2
RETURNING version
)SQL";

constexpr const char* kRestoreCustomer = R"SQL(
UPDATE customers c
   SET external_id = s.external_id, name = s.name, email = s.email, phone = s.phone, address = s.address,
       notes = s.notes, attributes = s.attributes, lifecycle_stage = s.lifecycle_stage, tags = s.tags,
       status = s.status, merged_into_customer_id = s.merged_into_customer_id, deleted_at = s.deleted_at
  FROM jsonb_populate_record(NULL::customers, $3::jsonb) s
 WHERE c.company_id = $1 AND c.id = $2
RETURNING c.version
)SQL";

constexpr const char* kNewUuid = "SELECT gen_random_uuid()::text";

constexpr const char* kInsertMergeLog = R"SQL(
INSERT INTO customer_merge_log (id, company_id, source_customer_id, target_customer_id, source_snapshot,
                                target_snapshot, field_choices, moved_rows)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb)
)SQL";

constexpr const char* kListMerges = R"SQL(
SELECT m.merge_id, m.target_id, m.source_ids, m.field_choices, m.actor, m.created_at::text, m.undone_at::text
  FROM (SELECT l.field_choices ->> 'merge_id' AS merge_id, l.target_customer_id::text AS target_id,
               array_to_json(array_agg(l.source_customer_id::text ORDER BY l.source_customer_id))::text AS source_ids,
               (array_agg(l.field_choices::text ORDER BY l.source_customer_id))[1] AS field_choices,
               (array_agg(l.actor ORDER BY l.source_customer_id))[1] AS actor,
               min(l.created_at) AS created_at, max(l.undone_at) AS undone_at
          FROM customer_merge_log l
         WHERE l.company_id = $1
         GROUP BY 1, 2) m
 WHERE $3::timestamptz IS NULL OR (m.created_at, m.merge_id) < ($3::timestamptz, $4::text)
 ORDER BY m.created_at DESC, m.merge_id DESC
 LIMIT $2
)SQL";

constexpr const char* kSelectMerge = R"SQL(
SELECT l.id::text, l.field_choices ->> 'merge_id', l.source_customer_id::text, l.target_customer_id::text,
       l.source_snapshot::text, l.target_snapshot::text, l.field_choices::text, l.moved_rows::text, l.actor,
       l.created_at::text, l.undone_at::text
  FROM customer_merge_log l
 WHERE l.company_id = $1
   AND l.target_customer_id = (SELECT h.target_customer_id FROM customer_merge_log h
                                WHERE h.company_id = $1 AND h.id = $2)
   AND l.field_choices ->> 'merge_id' = $2::text
 ORDER BY l.source_customer_id
)SQL";

constexpr const char* kSelectLaterMergeInto = R"SQL(
SELECT l.field_choices ->> 'merge_id'
  FROM customer_merge_log l
 WHERE l.company_id = $1 AND l.target_customer_id = $2 AND l.undone_at IS NULL
   AND l.field_choices ->> 'merge_id' <> $3::text AND l.created_at >= $4::timestamptz
 ORDER BY l.created_at
 LIMIT 1
)SQL";

constexpr const char* kMarkMergeUndone = R"SQL(
UPDATE customer_merge_log SET undone_at = now(), undone_by = app_actor()
 WHERE company_id = $1 AND field_choices ->> 'merge_id' = $2::text AND undone_at IS NULL
)SQL";

constexpr const char* kInsertEvent = R"SQL(
INSERT INTO customer_events (company_id, customer_id, event_type, payload) VALUES ($1, $2, $3, $4::jsonb)
)SQL";

std::optional<std::string> opt(const pqxx::field& f) { return f.as<std::optional<std::string>>(); }
std::optional<std::string> opt_ts(const pqxx::field& f) {
  auto v = opt(f);
  if (v) *v = domain::rfc3339_or_same(*v);
  return v;
}

}  // namespace

std::vector<ForeignKeyRef> customer_foreign_keys(Tx& tx) {
  std::vector<ForeignKeyRef> out;
  for (const auto& r : tx.exec(kSelectCustomerForeignKeys))
    out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
  return out;
}

std::optional<ReferenceAction> reference_action(const ForeignKeyRef& fk) {
  struct Known {
    const char* table;
    const char* columns;
    ReferenceAction action;
  };
  // Every foreign key to customers must be listed here: merge refuses to run while
  // the catalog holds one that is not (MergeRepository.EveryCustomerForeignKeyIsClassified).
  static const Known kKnown[] = {
      {"VC Usage", "company_id,customer_id", ReferenceAction::kMove},
      {"customer_events", "company_id,customer_id", ReferenceAction::kMove},
      {"customer_matching_keys", "company_id,customer_id", ReferenceAction::kDerived},
      {"customer_session_counts", "company_id,customer_id", ReferenceAction::kDerived},
      {"customer_search", "company_id,customer_id", ReferenceAction::kDerived},
      {"customer_metrics", "company_id,customer_id", ReferenceAction::kDerived},
      // the duplicate queue and its scored pairs: merged customers leave them (0016 triggers), an undo re-queues
      {"duplicate_queue", "company_id,customer_id", ReferenceAction::kDerived},
      {"duplicate_candidates", "company_id,customer_a", ReferenceAction::kDerived},
      {"duplicate_candidates", "company_id,customer_b", ReferenceAction::kDerived},
      // the stored blocking keys (0022): a merged customer's stay, inert (candidates are
      // read joined to active customers); an undo re-queues the source, which rewrites them
      {"duplicate_blocking", "company_id,customer_id", ReferenceAction::kDerived},
      {"customers", "company_id,merged_into_customer_id", ReferenceAction::kHistory},
      {"customer_merge_log", "company_id,source_customer_id", ReferenceAction::kHistory},
      {"customer_merge_log", "company_id,target_customer_id", ReferenceAction::kHistory},
      {"duplicate_dismissals", "company_id,customer_a", ReferenceAction::kHistory},
      {"duplicate_dismissals", "company_id,customer_b", ReferenceAction::kHistory},
  };
  for (const auto& k : kKnown)
    if (fk.table == k.table && fk.columns == k.columns) return k.action;
  return std::nullopt;
}

std::map<std::string, LockedCustomer> lock_customers(Tx& tx, const std::string& company_id,
                                                     std::vector<std::string> ids) {
  std::map<std::string, LockedCustomer> out;
  for (const auto& r : tx.exec(kLockCustomers, company_id, uuid_array(ids))) {
    LockedCustomer c;
    c.record.id = r[0].as<std::string>();
    c.status = r[1].as<std::string>();
    c.merged_into = opt(r[2]);
    c.version = r[3].as<int>();
    c.record.name = opt(r[4]);
    c.record.email = opt(r[5]);
    c.record.phone = opt(r[6]);
    c.record.address = opt(r[7]);
    c.record.notes = opt(r[8]);
    c.record.lifecycle_stage = r[9].as<std::string>();
    c.record.tags = nlohmann::json::parse(r[10].as<std::string>()).get<std::vector<std::string>>();
    c.record.source = r[11].as<std::string>();
    c.record.updated_at = domain::rfc3339_or_same(r[12].as<std::string>());
    c.image = nlohmann::json::parse(r[13].as<std::string>());
    out.emplace(c.record.id, std::move(c));
  }
  return out;
}

std::optional<std::string> merge_that_absorbed(Tx& tx, const std::string& company_id, const std::string& customer_id) {
  auto r = tx.exec01(kSelectAbsorbingMerge, company_id, customer_id);
  if (!r) return std::nullopt;
  return opt((*r)[0]);
}

std::map<std::string, long> count_references(Tx& tx, const std::string& company_id, const std::string& customer_id) {
  auto r = tx.exec1(kCountReferences, company_id, customer_id);
  return {{"chat_rows", r[0].as<long>()},
          {"conversations", r[1].as<long>()},
          {"events", r[2].as<long>()},
          {"matching_keys", r[3].as<long>()}};
}

nlohmann::json move_references(Tx& tx, const std::string& company_id, const std::string& source,
                               const std::string& target) {
  nlohmann::json moved = nlohmann::json::object();
  moved["VC Usage"] = nlohmann::json::parse(tx.exec1(kMoveChatRows, company_id, source, target)[0].as<std::string>());
  moved["customer_events"] =
      nlohmann::json::parse(tx.exec1(kMoveEvents, company_id, source, target)[0].as<std::string>());
  return moved;
}

long move_references_back(Tx& tx, const std::string& company_id, const std::string& source,
                          const std::string& target, const nlohmann::json& moved_rows) {
  long missing = 0;
  auto ids = [&](const char* table) {
    return moved_rows.contains(table) ? moved_rows[table] : nlohmann::json::array();
  };
  auto chat = ids("VC Usage");
  auto events = ids("customer_events");
  missing += static_cast<long>(chat.size()) -
             tx.exec1(kMoveChatRowsBack, company_id, source, target, chat.dump())[0].as<long>();
  missing += static_cast<long>(events.size()) -
             tx.exec1(kMoveEventsBack, company_id, source, target, events.dump())[0].as<long>();
  return missing;
}

std::optional<std::string> first_moved_row_elsewhere(Tx& tx, const std::string& company_id, const std::string& target,
                                                     const nlohmann::json& moved_rows) {
  if (moved_rows.contains("VC Usage")) {
    if (auto r = tx.exec01(kChatRowElsewhere, company_id, target, moved_rows["VC Usage"].dump()))
      return "chat row " + (*r)[0].as<std::string>() + " no longer belongs to customer " + target;
  }
  if (moved_rows.contains("customer_events")) {
    if (auto r = tx.exec01(kEventElsewhere, company_id, target, moved_rows["customer_events"].dump()))
      return "event " + (*r)[0].as<std::string>() + " no longer belongs to customer " + target;
  }
  return std::nullopt;
}

int update_target_fields(Tx& tx, const std::string& company_id, const std::string& target,
                         const domain::MergeOutcome& o) {
  return tx
      .exec1(kUpdateTargetFields, company_id, target, o.name, o.email, o.phone, o.address, o.notes, o.lifecycle_stage,
             nlohmann::json(o.tags).dump())[0]
      .as<int>();
}

int mark_merged(Tx& tx, const std::string& company_id, const std::string& source, const std::string& target) {
  return tx.exec1(kMarkMerged, company_id, source, target)[0].as<int>();
}

int restore_customer(Tx& tx, const std::string& company_id, const std::string& id, const nlohmann::json& image) {
  return tx.exec1(kRestoreCustomer, company_id, id, image.dump())[0].as<int>();
}

std::string new_uuid(Tx& tx) { return tx.exec1(kNewUuid)[0].as<std::string>(); }

void insert_merge_log(Tx& tx, const std::string& company_id, const MergeLogRow& row) {
  tx.exec0(kInsertMergeLog, row.id, company_id, row.source_customer_id, row.target_customer_id,
           row.source_snapshot.dump(), row.target_snapshot.dump(), row.field_choices.dump(), row.moved_rows.dump());
}

std::vector<MergeSummaryRow> list_merges(Tx& tx, const std::string& company_id, int limit,
                                         const std::optional<std::pair<std::string, std::string>>& after) {
  std::optional<std::string> after_at, after_id;
  if (after) {
    after_at = after->first;
    after_id = after->second;
  }
  std::vector<MergeSummaryRow> out;
  for (const auto& r : tx.exec(kListMerges, company_id, limit, after_at, after_id)) {
    MergeSummaryRow m;
    m.merge_id = r[0].as<std::string>();
    m.target_customer_id = r[1].as<std::string>();
    for (const auto& id : nlohmann::json::parse(r[2].as<std::string>())) m.source_customer_ids.push_back(id);
    m.field_choices = nlohmann::json::parse(r[3].as<std::string>());
    m.actor = opt(r[4]);
    m.created_at = domain::rfc3339_or_same(r[5].as<std::string>());
    m.undone_at = opt_ts(r[6]);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MergeLogRow> load_merge(Tx& tx, const std::string& company_id, const std::string& merge_id) {
  std::vector<MergeLogRow> out;
  for (const auto& r : tx.exec(kSelectMerge, company_id, merge_id)) {
    MergeLogRow m;
    m.id = r[0].as<std::string>();
    m.merge_id = r[1].as<std::string>();
    m.source_customer_id = r[2].as<std::string>();
    m.target_customer_id = r[3].as<std::string>();
    m.source_snapshot = nlohmann::json::parse(r[4].as<std::string>());
    m.target_snapshot = nlohmann::json::parse(r[5].as<std::string>());
    m.field_choices = nlohmann::json::parse(r[6].as<std::string>());
    m.moved_rows = nlohmann::json::parse(r[7].as<std::string>());
    m.actor = opt(r[8]);
    m.created_at = domain::rfc3339_or_same(r[9].as<std::string>());
    m.undone_at = opt_ts(r[10]);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> later_merge_into(Tx& tx, const std::string& company_id, const std::string& target,
                                            const std::string& merge_id, const std::string& after_created_at) {
  auto r = tx.exec01(kSelectLaterMergeInto, company_id, target, merge_id, after_created_at);
  if (!r) return std::nullopt;
  return opt((*r)[0]);
}

void mark_merge_undone(Tx& tx, const std::string& company_id, const std::string& merge_id) {
  tx.exec0(kMarkMergeUndone, company_id, merge_id);
}

void insert_event(Tx& tx, const std::string& company_id, const std::string& customer_id, const std::string& type,
                  const nlohmann::json& payload) {
  tx.exec0(kInsertEvent, company_id, customer_id, type, payload.dump());
}

}  // namespace tradesphere::db
