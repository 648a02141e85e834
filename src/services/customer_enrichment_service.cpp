#include "services/customer_enrichment_service.hpp"

#include "common/json_log.hpp"
#include "db/customer_repository.hpp"
#include "db/database.hpp"
#include "db/enrichment_repository.hpp"
#include "db/merge_repository.hpp"
#include "domain/customer.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

std::string not_found(const std::string& id) { return "customer " + id + " not found"; }

bool blank(const std::optional<std::string>& v) { return !v || domain::trim(*v).empty(); }

}  // namespace

nlohmann::json to_json(const EnrichmentResult& r) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : r.changes)
    changes.push_back({{"field", c.field}, {"value", c.value}, {"session_id", c.session_id}, {"vc_usage_id", c.message_id}});
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& k : r.skipped) skipped.push_back({{"field", k.field}, {"value", k.value}, {"held_by", k.held_by}});
  return {{"customer_id", r.customer_id},
          {"changes", changes},
          {"skipped", skipped},
          {"completeness_before", r.completeness_before},
          {"completeness_after", r.completeness_after}};
}

domain::ContactInfo CustomerEnrichmentService::extract_contact_info(const std::vector<domain::ChatMessage>& messages,
                                                                    const std::string& default_region) {
  return domain::extract_contact_info(messages, default_region);
}

EnrichmentResult CustomerEnrichmentService::enrich_from_conversations(const domain::RequestContext& ctx,
                                                                      const std::string& customer_id) {
  if (!ctx.can_write()) throw domain::PermissionError("enriching a customer requires the agent or admin role");
  if (!domain::is_uuid(customer_id)) throw domain::NotFoundError(not_found(customer_id));
  auto result = db_.transact(ctx, "enrich_from_conversations", [&](db::Tx& tx) {
    auto t = db::lock_enrichment_target(tx, ctx.company_id, customer_id);
    if (!t) throw domain::NotFoundError(not_found(customer_id));
    if (t->status != "active") throw domain::ConflictError("customer " + customer_id + " is " + t->status);
    EnrichmentResult r;
    r.customer_id = customer_id;
    r.completeness_before = domain::profile_completeness(t->name, t->email, t->phone, t->address, t->notes, t->tag_count);
    auto info = domain::extract_contact_info(db::load_chat_messages(tx, ctx.company_id, customer_id),
                                             domain::region_for_calling_code(t->default_country_code));
    std::optional<std::string> name, email, phone;
    auto take = [&](const char* field, const std::vector<domain::ExtractedValue>& found,
                    const std::optional<std::string>& current, std::optional<std::string>& out) {
      if (found.empty() || !blank(current)) return;
      const auto& v = found.back();  // the most recent mention
      out = v.value;
      r.changes.push_back({field, v.value, v.session_id, v.message_id});
    };
    take("name", info.names, t->name, name);
    if (!info.emails.empty() && blank(t->email)) {
      // the most recent mention, unless another active customer holds it (one normalized
      // email, one active customer; the email's chat sync lock is held from here, 0050)
      const auto& v = info.emails.back();
      if (auto holder = db::lock_email_and_find_holder(tx, ctx.company_id, v.value, customer_id)) {
        r.skipped.push_back({"email", v.value, *holder});
      } else {
        email = v.value;
        r.changes.push_back({"email", v.value, v.session_id, v.message_id});
      }
    }
    take("phone", info.phones, t->phone, phone);
    if (!r.changes.empty()) {
      db::fill_empty_contact_fields(tx, ctx.company_id, customer_id, name, email, phone);
      if (name) t->name = name;
      if (email) t->email = email;
      if (phone) t->phone = phone;
    }
    r.completeness_after = domain::profile_completeness(t->name, t->email, t->phone, t->address, t->notes, t->tag_count);
    if (!r.changes.empty()) {
      auto payload = to_json(r);
      payload.erase("customer_id");
      db::insert_event(tx, ctx.company_id, customer_id, "enriched", payload);
    }
    return r;
  });
  common::log(spdlog::level::info, "customer.enriched",
              {{"customer_id", customer_id}, {"changes", result.changes.size()}});
  return result;
}

domain::ConversationSummary CustomerEnrichmentService::generate_conversation_summary(const domain::RequestContext& ctx,
                                                                                     const std::string& customer_id) {
  if (!domain::is_uuid(customer_id)) throw domain::NotFoundError(not_found(customer_id));
  auto messages = db_.transact(
      ctx, "generate_conversation_summary",
      [&](db::Tx& tx) {
        if (!db::customer_visible(tx, ctx.company_id, customer_id)) throw domain::NotFoundError(not_found(customer_id));
        return db::load_chat_messages(tx, ctx.company_id, customer_id);
      },
      db::TxMode::kReadOnly);
  return domain::summarize_conversations(std::move(messages));
}

domain::Customer CustomerEnrichmentService::update_customer_notes(const domain::RequestContext& ctx,
                                                                  const std::string& customer_id,
                                                                  const std::optional<std::string>& notes,
                                                                  std::optional<int> expected_version) {
  if (!ctx.can_write()) throw domain::PermissionError("updating notes requires the agent or admin role");
  if (!domain::is_uuid(customer_id)) throw domain::NotFoundError(not_found(customer_id));
  std::optional<std::string> value;
  if (!blank(notes)) value = domain::trim(*notes);
  if (value && value->size() > domain::kMaxNotesLength)
    throw domain::ValidationError("notes", "must be at most " + std::to_string(domain::kMaxNotesLength) + " bytes");
  return db_.transact(ctx, "update_customer_notes", [&](db::Tx& tx) {
    auto updated = db::update_notes(tx, ctx.company_id, customer_id, value, expected_version);
    if (updated) return *updated;
    auto current = db::active_customer_version(tx, ctx.company_id, customer_id);
    if (current && expected_version) {
      throw domain::VersionConflictError("customer " + customer_id + " is at version " + std::to_string(*current) +
                                             ", not " + std::to_string(*expected_version),
                                         *current);
    }
    throw domain::NotFoundError(not_found(customer_id));
  });
}

}  // namespace tradesphere::services
