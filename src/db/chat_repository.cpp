#include "db/chat_repository.hpp"

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "db/sql_arrays.hpp"
#include "domain/cursor.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kChatColumns =
    "v.id, v.session_id, v.tech_id, v.customer_name, v.customer_email, v.customer_phone, v.user_message, "
    "v.ai_response, v.created_at::text, v.customer_id::text";

// The statement trigger links the row at the end of the INSERT (migration 0051), after
// RETURNING: kLinkedCustomers reads the link back.
const std::string kInsertChat = R"SQL(
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone,
                        user_message, ai_response, created_at)
VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, now()))
RETURNING id
)SQL";

constexpr const char* kLinkedCustomers = R"SQL(
SELECT v.id, v.customer_id::text FROM "VC Usage" v WHERE v.company_id = $1::uuid AND v.id = ANY ($2::bigint[])
 ORDER BY v.id
)SQL";

// A batch in one statement (migration 0034 makes a multi-row insert set-based): the
// records in order, so the ids (and the row-by-row matching in id order) follow it.
// The records whose contact certainly belongs to an existing customer (the rule's answer
// without the row-by-row path, migration 0043) come with their customer_id, found for the
// whole batch with one lookup, and so do the records whose customer the rule would
// certainly create (migration 0048: created with one INSERT in that call); the statement
// trigger matches the others row by row at the end of the INSERT (0051), so every link is
// read back (kLinkedCustomers).
constexpr const char* kInsertChats = R"SQL(
WITH m AS MATERIALIZED (
  SELECT u.customer_id, u.ord
    FROM unnest(chat_match_batch($1::uuid, $2::jsonb)) WITH ORDINALITY AS u (customer_id, ord)
)
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone,
                        user_message, ai_response, created_at, customer_id)
SELECT $1::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email',
       e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response',
       coalesce((e.r->>'created_at')::timestamptz, now()), m.customer_id
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e (r, ord)
  LEFT JOIN m ON m.ord = e.ord
 ORDER BY e.ord
RETURNING id
)SQL";

// The chat sync's lock of the session's bucket (migration 0050): a chat sync that read
// "this session is A's" has committed (its row moves too) or waits and reads the move.
constexpr const char* kLockSession =
    "SELECT chat_sync_lock_contacts($1::uuid, ARRAY[$2::text], '{}'::text[], '{}'::text[])";

constexpr const char* kActiveCustomer = R"SQL(
SELECT 1 FROM customers c WHERE c.company_id = $1::uuid AND c.id = $2::uuid AND c.status = 'active'
)SQL";

constexpr const char* kAnyCustomer = R"SQL(
SELECT 1 FROM customers c WHERE c.company_id = $1::uuid AND c.id = $2::uuid
)SQL";

// Moves the session's rows (locked in id order) to $2; returns each moved row's previous customer.
constexpr const char* kMoveSession = R"SQL(
WITH o AS (
  SELECT v.id, v.customer_id AS previous
    FROM "VC Usage" v
   WHERE v.company_id = $1::uuid AND v.session_id = $3::text AND v.customer_id IS DISTINCT FROM $2::uuid
   ORDER BY v.id
     FOR UPDATE
), u AS (
  UPDATE "VC Usage" v SET customer_id = $2::uuid
    FROM o
   WHERE v.company_id = $1::uuid AND v.id = o.id
  RETURNING o.previous
)
SELECT (SELECT count(*) FROM u),
       (SELECT coalesce(jsonb_agg(DISTINCT u.previous), '[]'::jsonb)::text FROM u WHERE u.previous IS NOT NULL),
       EXISTS (SELECT 1 FROM "VC Usage" v WHERE v.company_id = $1::uuid AND v.session_id = $3::text)
)SQL";

constexpr const char* kInsertEvent = R"SQL(
INSERT INTO customer_events (company_id, customer_id, event_type, payload)
VALUES ($1::uuid, $2::uuid, $3, $4::jsonb)
)SQL";

// Conversations of a customer, most recent first; keyset after ($3 has cursor, $4 last at, $5 key).
constexpr const char* kConversations = R"SQL(
SELECT g.k, g.session_id, g.first_at::text, g.last_at::text, g.n, g.last_user, g.last_ai
  FROM (
    SELECT conversation_key(v.session_id, v.id) COLLATE "C" AS k,
           max(v.session_id) AS session_id,
           min(v.created_at) AS first_at,
           max(v.created_at) AS last_at,
           count(*) AS n,
           (array_agg(v.user_message ORDER BY v.created_at DESC, v.id DESC))[1] AS last_user,
           (array_agg(v.ai_response ORDER BY v.created_at DESC, v.id DESC))[1] AS last_ai
      FROM "VC Usage" v
     WHERE v.company_id = $1::uuid AND v.customer_id = $2::uuid
     GROUP BY 1
  ) g
 WHERE NOT $3::boolean OR (g.last_at, g.k) < ($4::timestamptz, $5::text COLLATE "C")
 ORDER BY g.last_at DESC, g.k DESC
 LIMIT $6::integer
)SQL";

const std::string kOrphans = std::string("SELECT ") + kChatColumns + R"SQL(
  FROM "VC Usage" v
 WHERE v.company_id = $1::uuid AND v.customer_id IS NULL
   AND (NOT $2::boolean OR (v.created_at, v.id) < ($3::timestamptz, $4::bigint))
 ORDER BY v.created_at DESC, v.id DESC
 LIMIT $5::integer
)SQL";

// One conversation's rows of a customer, oldest first; $3 the session key, $4 the row
// id when the key is "row:<id>" (index: the session's, or the primary key), keyset
// after ($5 has cursor, $6 created_at, $7 id).
const std::string kMessages = std::string("SELECT ") + kChatColumns + R"SQL(
  FROM "VC Usage" v
 WHERE v.company_id = $1::uuid AND v.customer_id = $2::uuid
   AND (v.session_id = $3::text OR v.id = $4::bigint)
   AND conversation_key(v.session_id, v.id) = $3::text
   AND (NOT $5::boolean OR (v.created_at, v.id) > ($6::timestamptz, $7::bigint))
 ORDER BY v.created_at, v.id
 LIMIT $8::integer
)SQL";

// The insert trigger's rule, without creating customers (the application role may
// not call chat_match_customer / link_chat_row): the session's latest linked
// customer, else the email key, else the phone key, each resolved through merges.
// The orphans to relink, locked (skipping rows another relink holds), then the chat
// sync's locks of their sessions, emails and phones (0050), then the links: a merge or
// another sync of those keys has committed before the links read ownership, or waits.
constexpr const char* kClaimOrphans = R"SQL(
WITH o AS (
  SELECT v.id, v.session_id, v.customer_email, v.customer_phone
    FROM "VC Usage" v
   WHERE v.company_id = $1::uuid AND v.customer_id IS NULL
   ORDER BY v.id
   LIMIT $2::integer
     FOR UPDATE SKIP LOCKED
)
SELECT coalesce(jsonb_agg(o.id ORDER BY o.id), '[]')::text,
       chat_sync_lock_contacts($1::uuid, coalesce(array_agg(o.session_id), '{}'),
                               coalesce(array_agg(o.customer_email), '{}'), coalesce(array_agg(o.customer_phone), '{}'))
  FROM o
)SQL";

constexpr const char* kRelinkOrphans = R"SQL(
WITH o AS (
  SELECT v.id, v.session_id, v.customer_email, v.customer_phone
    FROM "VC Usage" v
   WHERE v.company_id = $1::uuid AND v.customer_id IS NULL
     AND v.id IN (SELECT x::bigint FROM jsonb_array_elements_text($2::jsonb) x)
), cc AS (
  SELECT co.default_country_code FROM companies co WHERE co.id = $1::uuid
), m AS (
  SELECT o.id,
         coalesce(
           resolve_customer($1::uuid, (SELECT s.customer_id FROM "VC Usage" s
                                        WHERE s.company_id = $1::uuid AND s.session_id = nullif(o.session_id, '')
                                          AND s.customer_id IS NOT NULL
                                        ORDER BY s.id DESC LIMIT 1)),
           match_customer_key($1::uuid, 'email', normalize_email(o.customer_email)),
           match_customer_key($1::uuid, 'phone', normalize_phone(o.customer_phone, (SELECT default_country_code FROM cc)))
         ) AS customer_id
    FROM o
), u AS (
  UPDATE "VC Usage" v SET customer_id = m.customer_id
    FROM m
   WHERE v.company_id = $1::uuid AND v.id = m.id AND m.customer_id IS NOT NULL
  RETURNING v.id
)
SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM u)
)SQL";

// Legacy: "VC Usage" by the company's tech ids, the whole slice (as the old code read it).
const std::string kLegacyAllRows = std::string("SELECT ") + kChatColumns + R"SQL(
  FROM "VC Usage" v
 WHERE v.company_id = $1::uuid
   AND v.tech_id IN (SELECT u.tech_id FROM app_users u WHERE u.company_id = $1::uuid)
 ORDER BY v.created_at, v.id
)SQL";

const std::string kLegacyRowsOfContact = std::string("SELECT ") + kChatColumns + R"SQL(
  FROM "VC Usage" v
 WHERE v.company_id = $1::uuid
   AND v.tech_id IN (SELECT u.tech_id FROM app_users u WHERE u.company_id = $1::uuid)
   AND CASE WHEN $2::text IS NOT NULL THEN lower(btrim(v.customer_email)) = $2::text
            ELSE btrim(v.customer_name) = $3::text END
 ORDER BY v.created_at, v.id
)SQL";

const char* p(const std::optional<std::string>& o) { return o ? o->c_str() : nullptr; }

ChatRow chat_row_from_row(const pqxx::row& r) {
  ChatRow c;
  c.id = r[0].as<std::int64_t>();
  c.session_id = r[1].as<std::optional<std::string>>();
  c.tech_id = r[2].as<std::optional<std::string>>();
  c.customer_name = r[3].as<std::optional<std::string>>();
  c.customer_email = r[4].as<std::optional<std::string>>();
  c.customer_phone = r[5].as<std::optional<std::string>>();
  c.user_message = r[6].as<std::optional<std::string>>();
  c.ai_response = r[7].as<std::optional<std::string>>();
  c.created_at = domain::rfc3339_or_same(r[8].as<std::string>());
  c.customer_id = r[9].as<std::optional<std::string>>();
  return c;
}

ConversationSummary conversation_from_row(const pqxx::row& r) {
  ConversationSummary s;
  s.session_key = r[0].as<std::string>();
  s.session_id = r[1].as<std::optional<std::string>>();
  s.first_message_at = domain::rfc3339_or_same(r[2].as<std::string>());
  s.last_message_at = domain::rfc3339_or_same(r[3].as<std::string>());
  s.message_count = r[4].as<std::int64_t>();
  s.last_user_message = r[5].as<std::optional<std::string>>();
  s.last_ai_response = r[6].as<std::optional<std::string>>();
  return s;
}

// Page cursors of this repository: domain::encode_page_token {"a": <timestamp>, "k": <key>}.
std::string encode_page_cursor(const std::string& at, const std::string& key) {
  return domain::encode_page_token({{"a", at}, {"k", key}});
}

std::pair<std::string, std::string> decode_page_cursor(const std::string& text) {
  if (auto values = domain::decode_page_token(text, {"a", "k"})) return {(*values)[0], (*values)[1]};
  throw domain::ValidationError("cursor", "not a cursor of this list");
}

// The (created_at, id) cursor of a chat-row list; ValidationError for anything else.
std::optional<std::pair<std::string, std::string>> chat_row_cursor(const std::optional<std::string>& cursor) {
  if (!cursor) return std::nullopt;
  auto after = decode_page_cursor(*cursor);
  if (after.second.empty() || after.second.find_first_not_of("0123456789") != std::string::npos ||
      after.second.size() > 18) {
    throw domain::ValidationError("cursor", "not a cursor of this list");
  }
  return after;
}

// A page of `limit` chat rows from the limit + 1 rows read, with the next cursor
// when the extra row came.
ChatRowPage chat_row_page(const pqxx::result& rows, int limit) {
  ChatRowPage out;
  for (const auto& r : rows) {
    if (static_cast<int>(out.items.size()) == limit) {
      out.next_cursor = encode_page_cursor(out.items.back().created_at, std::to_string(out.items.back().id));
      break;
    }
    out.items.push_back(chat_row_from_row(r));
  }
  return out;
}

// The stored rows' ids (the statement just inserted them) with their customers, in id order.
std::vector<StoredChat> linked_chats(Tx& tx, const std::string& company_id, const std::vector<std::int64_t>& ids) {
  std::vector<StoredChat> stored;
  stored.reserve(ids.size());
  for (const auto& row : tx.exec(kLinkedCustomers, company_id, bigint_array(ids))) {
    stored.push_back({row[0].as<std::int64_t>(), row[1].as<std::optional<std::string>>()});
  }
  if (stored.size() != ids.size()) {
    throw domain::RepositoryError("chat rows: " + std::to_string(stored.size()) + " read back of " +
                                  std::to_string(ids.size()) + " stored");
  }
  return stored;
}

}  // namespace

StoredChat ChatRepository::insert_chat(Tx& tx, const std::string& company_id, const domain::ChatRecord& record) {
  auto row = tx.exec1(kInsertChat, company_id, record.session_id, record.tech_id, p(record.customer_name),
                      p(record.customer_email), p(record.customer_phone), record.user_message, record.ai_response,
                      p(record.created_at));
  return linked_chats(tx, company_id, {row[0].as<std::int64_t>()}).front();
}

std::vector<StoredChat> ChatRepository::insert_chats(Tx& tx, const std::string& company_id,
                                                     const std::vector<domain::ChatRecord>& records) {
  auto opt_json = [](const std::optional<std::string>& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& record : records) {
    rows.push_back({{"session_id", record.session_id},
                    {"tech_id", record.tech_id},
                    {"customer_name", opt_json(record.customer_name)},
                    {"customer_email", opt_json(record.customer_email)},
                    {"customer_phone", opt_json(record.customer_phone)},
                    {"user_message", record.user_message},
                    {"ai_response", record.ai_response},
                    {"created_at", opt_json(record.created_at)}});
  }
  std::vector<std::int64_t> ids;
  ids.reserve(records.size());
  for (const auto& row : tx.exec(kInsertChats, company_id, rows.dump())) ids.push_back(row[0].as<std::int64_t>());
  if (ids.size() != records.size()) {
    throw domain::RepositoryError("chat batch: " + std::to_string(ids.size()) + " rows stored of " +
                                  std::to_string(records.size()));
  }
  // ids are drawn in insertion order: sorted (kLinkedCustomers), they follow the records
  return linked_chats(tx, company_id, ids);
}

LinkResult ChatRepository::link_session(Tx& tx, const std::string& company_id, const std::string& customer_id,
                                        const std::string& session_id) {
  tx.exec1(kLockSession, company_id, session_id);
  if (!tx.exec01(kActiveCustomer, company_id, customer_id)) {
    throw domain::NotFoundError("customer " + customer_id + " not found");
  }
  auto row = tx.exec1(kMoveSession, company_id, customer_id, session_id);
  if (!row[2].as<bool>()) throw domain::NotFoundError("conversation " + session_id + " not found");
  LinkResult result;
  result.moved_rows = row[0].as<std::int64_t>();
  result.previous_customer_ids = nlohmann::json::parse(row[1].as<std::string>()).get<std::vector<std::string>>();
  // Rows taken from other customers: the trigger records links of orphans only.
  for (const auto& previous : result.previous_customer_ids) {
    tx.exec(kInsertEvent, company_id, previous, "conversation_unlinked",
            nlohmann::json{{"session_id", session_id}, {"moved_to", customer_id}}.dump());
  }
  if (!result.previous_customer_ids.empty()) {
    tx.exec(kInsertEvent, company_id, customer_id, "conversation_linked",
            nlohmann::json{{"session_key", session_id}, {"moved_from", result.previous_customer_ids}}.dump());
  }
  return result;
}

bool ChatRepository::customer_exists(Tx& tx, const std::string& company_id, const std::string& customer_id) {
  return tx.exec01(kAnyCustomer, company_id, customer_id).has_value();
}

ConversationPage ChatRepository::conversations_of(Tx& tx, const std::string& company_id,
                                                  const std::string& customer_id, const PageRequest& page) {
  std::optional<std::pair<std::string, std::string>> after;
  if (page.cursor) after = decode_page_cursor(*page.cursor);
  auto rows = tx.exec(kConversations, company_id, customer_id, after ? "true" : "false",
                      after ? after->first.c_str() : nullptr, after ? after->second.c_str() : nullptr,
                      std::to_string(page.limit + 1));
  ConversationPage out;
  for (const auto& r : rows) {
    if (static_cast<int>(out.items.size()) == page.limit) {
      out.next_cursor = encode_page_cursor(out.items.back().last_message_at, out.items.back().session_key);
      break;
    }
    out.items.push_back(conversation_from_row(r));
  }
  return out;
}

ChatRowPage ChatRepository::messages_of(Tx& tx, const std::string& company_id, const std::string& customer_id,
                                       const std::string& session_key, const PageRequest& page) {
  const auto after = chat_row_cursor(page.cursor);
  std::optional<std::string> row_id;  // "row:<id>": a row without session
  if (session_key.rfind("row:", 0) == 0 && session_key.size() > 4 && session_key.size() <= 4 + 18 &&
      session_key.find_first_not_of("0123456789", 4) == std::string::npos) {
    row_id = session_key.substr(4);
  }
  auto rows = tx.exec(kMessages, company_id, customer_id, session_key, row_id ? row_id->c_str() : nullptr,
                      after ? "true" : "false", after ? after->first.c_str() : nullptr,
                      after ? after->second.c_str() : nullptr, std::to_string(page.limit + 1));
  if (rows.empty() && !after) throw domain::NotFoundError("conversation " + session_key + " not found");
  return chat_row_page(rows, page.limit);
}

ChatRowPage ChatRepository::orphans(Tx& tx, const std::string& company_id, const PageRequest& page) {
  const auto after = chat_row_cursor(page.cursor);
  auto rows = tx.exec(kOrphans, company_id, after ? "true" : "false", after ? after->first.c_str() : nullptr,
                      after ? after->second.c_str() : nullptr, std::to_string(page.limit + 1));
  return chat_row_page(rows, page.limit);
}

RelinkResult ChatRepository::relink_orphans(Tx& tx, const std::string& company_id, int limit) {
  const auto claimed = tx.exec1(kClaimOrphans, company_id, std::to_string(limit))[0].as<std::string>();
  auto row = tx.exec1(kRelinkOrphans, company_id, claimed);
  return RelinkResult{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

std::vector<ChatRow> ChatRepository::legacy_all_rows(Tx& tx, const std::string& company_id) {
  std::vector<ChatRow> out;
  for (const auto& r : tx.exec(kLegacyAllRows, company_id)) out.push_back(chat_row_from_row(r));
  return out;
}

std::vector<ChatRow> ChatRepository::legacy_rows_of_contact(Tx& tx, const std::string& company_id,
                                                            const std::optional<std::string>& email,
                                                            const std::optional<std::string>& name) {
  std::vector<ChatRow> out;
  for (const auto& r : tx.exec(kLegacyRowsOfContact, company_id, p(email), p(name))) {
    out.push_back(chat_row_from_row(r));
  }
  return out;
}

}  // namespace tradesphere::db
