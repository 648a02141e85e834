// Enrichment of customer records from their conversations (issue 6):
// contact details found in the customer's own chat messages fill EMPTY fields
// only (never what a user entered), an `enriched` timeline event records what
// changed and from which session, and completeness (share of filled profile
// fields) is reported before and after. Summaries are extractive and
// deterministic (domain/contact_extraction.hpp); no external service.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/contact_extraction.hpp"
#include "domain/customer.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

struct EnrichmentChange {
  std::string field;  // name | email | phone
  std::string value;
  std::string session_id;
  std::int64_t message_id = 0;  // "VC Usage".id the value came from
};

// A value found but not filled: the email belongs to another active customer (one
// normalized email, one active customer).
struct EnrichmentSkip {
  std::string field;
  std::string value;
  std::string held_by;  // the customer holding it
};

struct EnrichmentResult {
  std::string customer_id;
  std::vector<EnrichmentChange> changes;  // empty: nothing to fill
  std::vector<EnrichmentSkip> skipped;
  double completeness_before = 0;
  double completeness_after = 0;
};

nlohmann::json to_json(const EnrichmentResult& result);

class CustomerEnrichmentService {
 public:
  explicit CustomerEnrichmentService(db::Database& db) : db_(db) {}

  // Pure pass-through to domain::extract_contact_info (for callers without a customer).
  static domain::ContactInfo extract_contact_info(const std::vector<domain::ChatMessage>& messages,
                                                  const std::string& default_region = "US");

  // Agent or admin. NotFoundError for an unknown id; ConflictError for a merged or deleted customer.
  // The most recent mention of each kind wins.
  EnrichmentResult enrich_from_conversations(const domain::RequestContext& ctx, const std::string& customer_id);

  // Any role. NotFoundError for an unknown id.
  domain::ConversationSummary generate_conversation_summary(const domain::RequestContext& ctx,
                                                            const std::string& customer_id);

  // Agent or admin. Notes are trimmed; blank (or nullopt) clears them; ValidationError over
  // domain::kMaxNotesLength; NotFoundError for an unknown or inactive customer;
  // VersionConflictError when expected_version is given and stale. Returns the updated customer.
  domain::Customer update_customer_notes(const domain::RequestContext& ctx, const std::string& customer_id,
                                         const std::optional<std::string>& notes,
                                         std::optional<int> expected_version = std::nullopt);

 private:
  db::Database& db_;
};

}  // namespace tradesphere::services
