#include "services/legacy_customer_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

std::optional<std::string> non_blank(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  auto t = domain::trim(*s);
  if (t.empty()) return std::nullopt;
  return t;
}

std::string conversation_key(const domain::ChatRow& row) {
  if (row.session_id && !row.session_id->empty()) return *row.session_id;
  return "row:" + std::to_string(row.id);
}

// What the old code computed per customer from its rows (oldest first).
CustomerProfile profile_from_rows(const std::vector<domain::ChatRow>& rows) {
  CustomerProfile p;
  std::set<std::string> conversations;
  for (const auto& row : rows) {
    if (auto n = non_blank(row.customer_name)) p.name = n;
    if (auto e = non_blank(row.customer_email)) p.email = domain::to_lower_ascii(*e);
    if (auto ph = non_blank(row.customer_phone)) p.phone = ph;
    conversations.insert(conversation_key(row));
  }
  p.conversation_count = static_cast<std::int64_t>(conversations.size());
  p.message_count = static_cast<std::int64_t>(rows.size());
  if (!rows.empty()) {
    p.first_contact_at = rows.front().created_at;
    p.last_contact_at = rows.back().created_at;
    if (rows.back().user_message) p.last_message = rows.back().user_message->substr(0, 200);
  }
  return p;
}

bool contains_ci(const std::optional<std::string>& haystack, const std::string& needle) {
  return haystack && domain::to_lower_ascii(*haystack).find(needle) != std::string::npos;
}

}  // namespace

LegacyCustomerService::LegacyCustomerService(db::Database& db) : db_(db) {}

// Each legacy query is its own transaction, as the old code ran them (the N+1 baseline).
std::vector<domain::ChatRow> LegacyCustomerService::rows_of_contact(const domain::RequestContext& ctx,
                                                                const std::optional<std::string>& email,
                                                                const std::optional<std::string>& name) {
  return db_.transact(
      ctx, "legacy_rows_of_contact",
      [&](db::Tx& tx) { return chats_.legacy_rows_of_contact(tx, ctx.company_id, email, name); },
      db::TxMode::kReadOnly);
}

std::string LegacyCustomerService::company_of(const std::string& tech_id) {
  ++queries_;
  domain::RequestContext lookup;  // no tenant yet
  lookup.user_id = tech_id;
  lookup.role = domain::Role::kAdmin;
  auto company = db_.transact(
      lookup, "get_user_company_id", [&](db::Tx& tx) { return companies_.get_user_company_id(tx, tech_id); },
      db::TxMode::kReadOnly);
  if (!company) throw domain::NotFoundError("user " + tech_id + " not found");
  return *company;
}

// The old getCustomerList: load the company's whole "VC Usage" slice, group rows by
// email (else name) in memory, then fetch each customer's details with its own
// query (N+1).
std::vector<CustomerProfile> LegacyCustomerService::aggregate(const std::string& tech_id) {
  domain::RequestContext ctx{company_of(tech_id), tech_id, domain::Role::kViewer, ""};
  ++queries_;
  auto rows = db_.transact(
      ctx, "legacy_all_rows", [&](db::Tx& tx) { return chats_.legacy_all_rows(tx, ctx.company_id); },
      db::TxMode::kReadOnly);
  struct Key {
    std::optional<std::string> email;
    std::optional<std::string> name;
  };
  std::map<std::string, Key> groups;  // "e:<email>" or "n:<name>"
  std::vector<std::string> order;
  for (const auto& row : rows) {
    Key key;
    std::string id;
    if (auto e = non_blank(row.customer_email)) {
      key.email = domain::to_lower_ascii(*e);
      id = "e:" + *key.email;
    } else if (auto n = non_blank(row.customer_name)) {
      key.name = *n;
      id = "n:" + *key.name;
    } else {
      continue;  // anonymous rows were not customers
    }
    if (groups.emplace(id, key).second) order.push_back(id);
  }
  std::vector<CustomerProfile> out;
  for (const auto& id : order) {
    const auto& key = groups[id];
    ++queries_;
    auto detail_rows = rows_of_contact(ctx, key.email, key.name);
    if (detail_rows.empty()) continue;
    out.push_back(profile_from_rows(detail_rows));
  }
  return out;
}

std::vector<CustomerProfile> LegacyCustomerService::get_customer_list(const std::string& tech_id,
                                                                      const CustomerSearchFilters& filters) {
  if (filters.limit < 1 || filters.limit > 1000) throw domain::ValidationError("limit", "must be between 1 and 1000");
  auto all = aggregate(tech_id);
  std::vector<CustomerProfile> out;
  const std::string needle = filters.search ? domain::to_lower_ascii(domain::trim(*filters.search)) : "";
  for (auto& p : all) {
    if (!needle.empty() && !contains_ci(p.name, needle) && !contains_ci(p.email, needle) &&
        !contains_ci(p.phone, needle)) {
      continue;
    }
    out.push_back(std::move(p));
  }
  auto by = [&](const CustomerProfile& a, const CustomerProfile& b) {
    if (filters.sort_by == "name") return domain::to_lower_ascii(a.name.value_or("")) < domain::to_lower_ascii(b.name.value_or(""));
    if (filters.sort_by == "conversation_count") return a.conversation_count < b.conversation_count;
    return a.last_contact_at.value_or("") < b.last_contact_at.value_or("");
  };
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    return filters.descending ? by(b, a) : by(a, b);
  });
  if (static_cast<int>(out.size()) > filters.limit) out.resize(static_cast<std::size_t>(filters.limit));
  return out;
}

std::optional<CustomerProfile> LegacyCustomerService::get_customer_details(const std::string& tech_id,
                                                                           const std::string& email_or_name) {
  domain::RequestContext ctx{company_of(tech_id), tech_id, domain::Role::kViewer, ""};
  std::optional<std::string> email, name;
  std::string key = domain::trim(email_or_name);
  if (key.find('@') != std::string::npos) {
    email = domain::to_lower_ascii(key);
  } else {
    name = key;
  }
  ++queries_;
  auto rows = rows_of_contact(ctx, email, name);
  if (rows.empty()) return std::nullopt;
  return profile_from_rows(rows);
}

std::vector<CustomerProfile> LegacyCustomerService::search_customers(const std::string& tech_id,
                                                                     const std::string& query) {
  CustomerSearchFilters filters;
  filters.search = query;
  filters.limit = 1000;
  return get_customer_list(tech_id, filters);
}

}  // namespace tradesphere::services
