// Chat rows ("VC Usage") as CustomerSyncService needs them: storing a chat
// row (the database trigger links or creates its customer), conversations of
// a customer grouped by session, orphaned rows, moving a session to another
// customer and re-matching orphans. Company-scoped SQL; RLS enforces it too.
// Page limits and ids are checked by the services (chat rows: 1..1000 per page,
// messages 1..kMaxMessagesLimit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/conversation.hpp"
#include "domain/customer.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/conversation.hpp), by their names in this layer.
using domain::ChatRow;
using domain::ChatRowPage;
using domain::ConversationPage;
using domain::kMaxMessagesLimit;
using domain::LinkResult;
using domain::PageRequest;
using domain::RelinkResult;
using domain::StoredChat;
using ConversationSummary = domain::Conversation;

// Query code only: every method runs in the caller's transaction (a Tx from
// db::Database::transact); roles, input limits, metrics and logs belong to the
// services (CustomerSyncService, LegacyCustomerService) that own the transactions.
class ChatRepository {
 public:
  // Inserts the row with company_id = company_id; the insert trigger links it.
  StoredChat insert_chat(Tx& tx, const std::string& company_id, const domain::ChatRecord& record);
  // All rows with one statement, in order; the links and metrics are those of a sequence
  // of single inserts (the records whose contact certainly belongs to a customer are
  // matched for the whole batch at once, migration 0043; the trigger matches the others).
  std::vector<StoredChat> insert_chats(Tx& tx, const std::string& company_id,
                                       const std::vector<domain::ChatRecord>& records);
  // Moves every row of the session (company-scoped) to the active customer `customer_id`
  // (a uuid). NotFoundError for an unknown customer or a session with no rows.
  LinkResult link_session(Tx& tx, const std::string& company_id, const std::string& customer_id,
                          const std::string& session_id);
  // True when the customer exists (any status) in the company.
  bool customer_exists(Tx& tx, const std::string& company_id, const std::string& customer_id);
  // The conversations of a customer, most recent first (limit 1..1000; ValidationError
  // for a cursor not of this list).
  ConversationPage conversations_of(Tx& tx, const std::string& company_id, const std::string& customer_id,
                                    const PageRequest& page);
  // The messages (chat rows) of one conversation of a customer, oldest first, keyset
  // paged on (created_at, id). `session_key` is a conversation's session_key
  // (the session id, or "row:<id>" for a row without session). NotFoundError when,
  // on the first page, the conversation has no row linked to that customer.
  ChatRowPage messages_of(Tx& tx, const std::string& company_id, const std::string& customer_id,
                          const std::string& session_key, const PageRequest& page);
  // Rows with customer_id NULL, newest first.
  ChatRowPage orphans(Tx& tx, const std::string& company_id, const PageRequest& page);
  // Re-runs matching (session reuse, then email key, then phone key, resolving merges,
  // as the insert trigger does) for at most `limit` orphaned rows, oldest first.
  // Rows that match nothing stay orphaned: creating customers for them is the
  // owner's `link_chat_row()` (tradesphere backfill), which the application role
  // may not call.
  RelinkResult relink_orphans(Tx& tx, const std::string& company_id, int limit);

  // ---- the legacy customerService's queries (LegacyCustomerService only) ----
  // Every chat row written by the company's users (tech_id in app_users), as the
  // old code loaded them: the whole table slice, no paging.
  std::vector<ChatRow> legacy_all_rows(Tx& tx, const std::string& company_id);
  // The rows of one legacy "customer": by lower-cased email when given, else by exact name.
  std::vector<ChatRow> legacy_rows_of_contact(Tx& tx, const std::string& company_id,
                                              const std::optional<std::string>& email,
                                              const std::optional<std::string>& name);
};

}  // namespace tradesphere::db
