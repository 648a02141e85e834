#include "services/customer_sync_service.hpp"

#include "common/json_log.hpp"
#include "common/metrics.hpp"
#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"
#include "services/customer_enrichment_service.hpp"

namespace tradesphere::services {
namespace {

void require_writer(const domain::RequestContext& ctx) {
  if (!ctx.can_write()) {
    throw domain::PermissionError("role " + std::string(domain::to_string(ctx.role)) + " may not sync chats");
  }
}

void count_outcome(const char* outcome) {
  static auto& family =
      common::metrics().counter_family("tradesphere_chat_sync_total", "Chat rows stored by sync_from_chat, by outcome");
  family.with({{"outcome", outcome}}).inc();
}

// The record's field errors, each prefixed (a batch names the record's index).
void check_record(const domain::ChatRecord& record, const std::string& prefix, std::vector<domain::FieldError>& errors) {
  if (domain::trim(record.session_id).empty()) errors.push_back({prefix + "session_id", "must not be blank"});
  if (domain::trim(record.tech_id).empty()) errors.push_back({prefix + "tech_id", "must not be blank"});
  if (domain::trim(record.user_message).empty()) errors.push_back({prefix + "user_message", "must not be blank"});
  if (record.created_at && !domain::is_iso8601_timestamp(*record.created_at)) {
    errors.push_back({prefix + "created_at", "must be an ISO-8601 timestamp with a zone"});
  }
}


// PageRequest limits: 1..1000 chat rows or conversations per page.
void check_limit(int limit) {
  if (limit < 1 || limit > 1000) throw domain::ValidationError("limit", "must be between 1 and 1000");
}

void require_customer_id(const std::string& customer_id) {
  if (!domain::is_uuid(customer_id)) throw domain::NotFoundError("customer " + customer_id + " not found");
}

}  // namespace

CustomerSyncService::CustomerSyncService(db::Database& db) : db_(db) {}

SyncResult CustomerSyncService::sync_from_chat(const domain::RequestContext& ctx, const domain::ChatRecord& record) {
  require_writer(ctx);
  std::vector<domain::FieldError> errors;
  check_record(record, "", errors);
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));

  // One transaction: the row (the trigger links or creates its customer) and that customer.
  domain::StoredChat stored;
  SyncResult result = db_.transact(ctx, "sync_from_chat", [&](db::Tx& tx) {
    stored = chats_.insert_chat(tx, ctx.company_id, record);
    SyncResult r;
    r.chat_row_id = stored.chat_row_id;
    if (stored.customer_id) {
      r.customer = customers_.find_customer_with_metrics(tx, ctx.company_id, *stored.customer_id,
                                                         /*include_deleted=*/true);
      if (!r.customer) throw domain::NotFoundError("customer " + *stored.customer_id + " not found");
    }
    return r;
  });
  count_outcome(stored.customer_id ? "linked" : "orphaned");
  common::log(spdlog::level::info, "chat.synced",
              {{"chat_row_id", stored.chat_row_id},
               {"customer_id", stored.customer_id ? nlohmann::json(*stored.customer_id) : nlohmann::json()},
               {"customer_email", record.customer_email ? nlohmann::json(*record.customer_email) : nlohmann::json()}});
  return result;
}

std::vector<domain::StoredChat> CustomerSyncService::sync_batch_from_chat(const domain::RequestContext& ctx,
                                                                    const std::vector<domain::ChatRecord>& records) {
  require_writer(ctx);
  std::vector<domain::FieldError> errors;
  for (std::size_t i = 0; i < records.size(); ++i) check_record(records[i], std::to_string(i) + "/", errors);
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  auto stored = db_.transact(ctx, "sync_batch_from_chat",
                             [&](db::Tx& tx) { return chats_.insert_chats(tx, ctx.company_id, records); });
  std::size_t linked = 0;
  for (const auto& s : stored) {
    count_outcome(s.customer_id ? "linked" : "orphaned");
    linked += s.customer_id ? 1 : 0;
  }
  common::log(spdlog::level::info, "chat.batch_synced",
              {{"rows", stored.size()},
               {"linked", linked},
               {"first_chat_row_id", stored.empty() ? nlohmann::json() : nlohmann::json(stored.front().chat_row_id)}});
  return stored;
}

domain::LinkResult CustomerSyncService::link_conversation_to_customer(const domain::RequestContext& ctx,
                                                                  const std::string& customer_id,
                                                                  const std::string& session_id) {
  require_writer(ctx);
  require_customer_id(customer_id);
  if (domain::trim(session_id).empty()) throw domain::ValidationError("session_id", "must not be blank");
  auto result = db_.transact(ctx, "link_conversation_to_customer", [&](db::Tx& tx) {
    return chats_.link_session(tx, ctx.company_id, customer_id, session_id);
  });
  common::log(spdlog::level::info, "chat.session_linked",
              {{"customer_id", customer_id}, {"session_id", session_id}, {"moved_rows", result.moved_rows}});
  return result;
}

EnrichmentSummary CustomerSyncService::enrich_customer_from_conversations(const domain::RequestContext& ctx,
                                                                          const std::string& customer_id) {
  require_writer(ctx);
  // Delegates to issue 6's enrichment (fills empty fields only, writes an `enriched` event).
  CustomerEnrichmentService enrichment(db_);
  auto result = enrichment.enrich_from_conversations(ctx, customer_id);
  EnrichmentSummary summary;
  summary.delegated = true;
  summary.changes = to_json(result);
  return summary;
}

domain::ConversationPage CustomerSyncService::get_customer_conversations(const domain::RequestContext& ctx,
                                                                     const std::string& customer_id,
                                                                     const domain::PageRequest& page) {
  check_limit(page.limit);
  require_customer_id(customer_id);
  return db_.transact(
      ctx, "get_customer_conversations",
      [&](db::Tx& tx) {
        if (!chats_.customer_exists(tx, ctx.company_id, customer_id)) {
          throw domain::NotFoundError("customer " + customer_id + " not found");
        }
        return chats_.conversations_of(tx, ctx.company_id, customer_id, page);
      },
      db::TxMode::kReadOnly);
}

domain::ChatRowPage CustomerSyncService::get_conversation_messages(const domain::RequestContext& ctx,
                                                               const std::string& customer_id,
                                                               const std::string& session_key,
                                                               const domain::PageRequest& page) {
  if (page.limit < 1 || page.limit > domain::kMaxMessagesLimit) {
    throw domain::ValidationError("limit", "must be between 1 and " + std::to_string(domain::kMaxMessagesLimit));
  }
  require_customer_id(customer_id);
  return db_.transact(
      ctx, "get_conversation_messages",
      [&](db::Tx& tx) {
        if (!chats_.customer_exists(tx, ctx.company_id, customer_id)) {
          throw domain::NotFoundError("customer " + customer_id + " not found");
        }
        return chats_.messages_of(tx, ctx.company_id, customer_id, session_key, page);
      },
      db::TxMode::kReadOnly);
}

domain::ChatRowPage CustomerSyncService::find_orphaned_conversations(const domain::RequestContext& ctx,
                                                                 const domain::PageRequest& page) {
  check_limit(page.limit);
  return db_.transact(
      ctx, "find_orphaned_conversations", [&](db::Tx& tx) { return chats_.orphans(tx, ctx.company_id, page); },
      db::TxMode::kReadOnly);
}

domain::RelinkResult CustomerSyncService::relink_orphans(const domain::RequestContext& ctx, int limit) {
  require_writer(ctx);
  if (limit < 1 || limit > 10000) throw domain::ValidationError("limit", "must be between 1 and 10000");
  auto result = db_.transact(ctx, "relink_orphans",
                             [&](db::Tx& tx) { return chats_.relink_orphans(tx, ctx.company_id, limit); });
  common::log(spdlog::level::info, "chat.orphans_relinked",
              {{"examined", result.examined}, {"linked", result.linked}});
  return result;
}

}  // namespace tradesphere::services
