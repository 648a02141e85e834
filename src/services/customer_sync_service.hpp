// CustomerSyncService: chat <-> customer synchronisation on top of the
// database triggers (which do the automatic linking on every chat insert).
// Each call is one transaction (sync_from_chat: the row and its customer).
#pragma once

#include <optional>
#include <string>

#include "db/chat_repository.hpp"
#include "db/customer_repository.hpp"
#include "domain/conversation.hpp"
#include "domain/customer.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

struct SyncResult {
  std::int64_t chat_row_id = 0;
  // The customer the trigger linked or created; nullopt when the row was stored
  // orphaned (no usable contact data, sync paused, or matching failed).
  std::optional<domain::CustomerWithMetrics> customer;
};

struct EnrichmentSummary {
  bool delegated = false;                             // true: CustomerEnrichmentService ran
  nlohmann::json changes = nlohmann::json::object();  // services::to_json(EnrichmentResult)
};

class CustomerSyncService {
 public:
  explicit CustomerSyncService(db::Database& db);

  // Stores one chat row for ctx.company_id (agent/admin); the trigger links or
  // creates its customer. ValidationError for blank session_id/tech_id/user_message.
  SyncResult sync_from_chat(const domain::RequestContext& ctx, const domain::ChatRecord& record);
  // A batch, atomically: every record is validated first (ValidationError naming
  // "<index>/<field>" for the first bad ones, nothing stored), then all rows are
  // stored in one transaction — a database failure stores none of them, so a
  // retry (with the same Idempotency-Key) cannot store a row twice.
  std::vector<domain::StoredChat> sync_batch_from_chat(const domain::RequestContext& ctx,
                                                   const std::vector<domain::ChatRecord>& records);
  // Moves every row of the session to the customer; metrics and events follow (triggers).
  domain::LinkResult link_conversation_to_customer(const domain::RequestContext& ctx, const std::string& customer_id,
                                               const std::string& session_id);
  // Delegates to CustomerEnrichmentService::enrich_from_conversations (issue 6):
  // fills empty name/email/phone from the customer's chats; NotFoundError for an
  // unknown customer, ConflictError for a merged or deleted one.
  EnrichmentSummary enrich_customer_from_conversations(const domain::RequestContext& ctx,
                                                       const std::string& customer_id);
  domain::ConversationPage get_customer_conversations(const domain::RequestContext& ctx, const std::string& customer_id,
                                                  const domain::PageRequest& page = {});
  // One conversation's messages, oldest first (ChatRepository::messages_of).
  domain::ChatRowPage get_conversation_messages(const domain::RequestContext& ctx, const std::string& customer_id,
                                            const std::string& session_key, const domain::PageRequest& page = {});
  // Orphans of ctx.company_id (the tenant comes from the context).
  domain::ChatRowPage find_orphaned_conversations(const domain::RequestContext& ctx, const domain::PageRequest& page = {});
  domain::RelinkResult relink_orphans(const domain::RequestContext& ctx, int limit = 1000);

 private:
  db::Database& db_;
  db::ChatRepository chats_;
  db::CustomerRepository customers_;
};

}  // namespace tradesphere::services
