// LegacyCustomerService: a faithful re-creation of the pre-refactoring
// customerService (seed, "Current Architecture"): it reads "VC Usage" directly,
// aggregates chat rows into "customers" in memory (grouped by lower-cased email,
// else by name), and then issues one query per customer for its details — the
// N+1 pattern. It is the A/B reference of the facade (mode legacy/compare) and
// the benchmark baseline; the API never uses it directly.
//
// Semantics kept from the old code, on purpose: no customer ids (a customer is
// its email or name), no soft-delete/merge awareness, rows without email and
// name are ignored, search is a case-insensitive substring match.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/chat_repository.hpp"
#include "db/company_repository.hpp"
#include "domain/conversation.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

// The legacy customerService's customer shape (both implementations return it).
struct CustomerProfile {
  std::optional<std::string> id;  // new implementation: the customer id; legacy: none
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::int64_t conversation_count = 0;
  std::int64_t message_count = 0;
  std::optional<std::string> first_contact_at;
  std::optional<std::string> last_contact_at;
  std::optional<std::string> last_message;
  std::string lifecycle_stage = "lead";  // legacy: always "lead"
  std::vector<std::string> tags;

  bool operator==(const CustomerProfile&) const = default;
};

// The legacy filter shape.
struct CustomerSearchFilters {
  std::optional<std::string> search;   // substring of name, email or phone
  std::string sort_by = "last_contact";  // "last_contact" | "name" | "conversation_count"
  bool descending = true;
  int limit = 50;  // 1..1000
};

class LegacyCustomerService {
 public:
  explicit LegacyCustomerService(db::Database& db);

  // NotFoundError for an unknown tech id.
  std::vector<CustomerProfile> get_customer_list(const std::string& tech_id, const CustomerSearchFilters& filters);
  // By email (case-insensitive) or exact name; nullopt when no chat row has it.
  std::optional<CustomerProfile> get_customer_details(const std::string& tech_id, const std::string& email_or_name);
  std::vector<CustomerProfile> search_customers(const std::string& tech_id, const std::string& query);

  // Statements this instance has issued (the N+1 shows here).
  std::uint64_t queries_issued() const { return queries_; }

 private:
  std::string company_of(const std::string& tech_id);
  std::vector<CustomerProfile> aggregate(const std::string& tech_id);

  std::vector<domain::ChatRow> rows_of_contact(const domain::RequestContext& ctx, const std::optional<std::string>& email,
                                           const std::optional<std::string>& name);

  db::Database& db_;
  db::CompanyRepository companies_;
  db::ChatRepository chats_;
  std::uint64_t queries_ = 0;
};

}  // namespace tradesphere::services
