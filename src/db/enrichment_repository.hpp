// SQL of customer enrichment from conversations (issue 6).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "domain/contact_extraction.hpp"
#include "domain/customer.hpp"

namespace tradesphere::db {

struct EnrichmentTarget {
  std::string id;
  std::string status;
  std::optional<std::string> name, email, phone, address, notes;
  std::size_t tag_count = 0;
  std::string default_country_code;
};

// Locks the customer row (FOR UPDATE) with its company's calling code; nullopt when not visible.
std::optional<EnrichmentTarget> lock_enrichment_target(Tx& tx, const std::string& company_id, const std::string& id);
bool customer_visible(Tx& tx, const std::string& company_id, const std::string& id);
// The customer's chat rows, oldest first.
std::vector<domain::ChatMessage> load_chat_messages(Tx& tx, const std::string& company_id, const std::string& id);
// Sets name/email/phone only where they are still NULL or blank; returns the row's version.
int fill_empty_contact_fields(Tx& tx, const std::string& company_id, const std::string& id,
                              const std::optional<std::string>& name, const std::optional<std::string>& email,
                              const std::optional<std::string>& phone);
// Replaces notes of an active customer (only at `expected_version` when given); the updated
// row, or std::nullopt when the customer is not visible, not active or at another version.
std::optional<domain::Customer> update_notes(Tx& tx, const std::string& company_id, const std::string& id,
                                             const std::optional<std::string>& notes,
                                             std::optional<int> expected_version = std::nullopt);
// The version of an active customer; std::nullopt when not visible or not active.
std::optional<int> active_customer_version(Tx& tx, const std::string& company_id, const std::string& id);

}  // namespace tradesphere::db
