#include "services/customer_sync_service.hpp"

#include "common/json_log.hpp"
#include "common/metrics.hpp"
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

}  // namespace

CustomerSyncService::CustomerSyncService(db::Database& db) : db_(db), chats_(db), customers_(db) {}

SyncResult CustomerSyncService::sync_from_chat(const domain::RequestContext& ctx, const domain::ChatRecord& record) {
  require_writer(ctx);
  std::vector<domain::FieldError> errors;
  check_record(record, "", errors);
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));

  auto stored = chats_.insert_chat(ctx, record);
  SyncResult result;
  result.chat_row_id = stored.chat_row_id;
  if (stored.customer_id) {
    result.customer = customers_.get_customer_with_metrics(ctx, *stored.customer_id, /*include_deleted=*/true);
    count_outcome("linked");
  } else {
    count_outcome("orphaned");
  }
  common::log(spdlog::level::info, "chat.synced",
              {{"chat_row_id", stored.chat_row_id},
               {"customer_id", stored.customer_id ? nlohmann::json(*stored.customer_id) : nlohmann::json()},
               {"customer_email", record.customer_email ? nlohmann::json(*record.customer_email) : nlohmann::json()}});
  return result;
}

std::vector<db::StoredChat> CustomerSyncService::sync_batch_from_chat(const domain::RequestContext& ctx,
                                                                    const std::vector<domain::ChatRecord>& records) {
  require_writer(ctx);
  std::vector<domain::FieldError> errors;
  for (std::size_t i = 0; i < records.size(); ++i) check_record(records[i], std::to_string(i) + "/", errors);
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  auto stored = chats_.insert_chats(ctx, records);
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

db::LinkResult CustomerSyncService::link_conversation_to_customer(const domain::RequestContext& ctx,
                                                                  const std::string& customer_id,
                                                                  const std::string& session_id) {
  require_writer(ctx);
  auto result = chats_.link_session(ctx, customer_id, session_id);
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

db::ConversationPage CustomerSyncService::get_customer_conversations(const domain::RequestContext& ctx,
                                                                     const std::string& customer_id,
                                                                     const db::PageRequest& page) {
  return chats_.conversations_of(ctx, customer_id, page);
}

db::ChatRowPage CustomerSyncService::get_conversation_messages(const domain::RequestContext& ctx,
                                                               const std::string& customer_id,
                                                               const std::string& session_key,
                                                               const db::PageRequest& page) {
  return chats_.messages_of(ctx, customer_id, session_key, page);
}

db::ChatRowPage CustomerSyncService::find_orphaned_conversations(const domain::RequestContext& ctx,
                                                                 const db::PageRequest& page) {
  return chats_.orphans(ctx, page);
}

db::RelinkResult CustomerSyncService::relink_orphans(const domain::RequestContext& ctx, int limit) {
  require_writer(ctx);
  auto result = chats_.relink_orphans(ctx, limit);
  common::log(spdlog::level::info, "chat.orphans_relinked",
              {{"examined", result.examined}, {"linked", result.linked}});
  return result;
}

}  // namespace tradesphere::services
