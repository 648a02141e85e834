// CustomerService: the facade that keeps the legacy customerService calls
// (tech id first) working on top of the new repository (seed, "Backward
// Compatibility Plan"). The company comes from the tech id
// (get_user_company_id); the role from app_users.
//
// A per-method switch chooses the implementation of the read methods:
//   new      the repository (default)
//   legacy   LegacyCustomerService (the old N+1 code) — the seed's "switch
//            specific methods back" rollback
//   compare  both; returns the new result, logs and counts any difference
//            (tradesphere_facade_compare_total{method,outcome}) — the A/B test
// Writes (create/update/delete) have no legacy implementation: always new.
//
// Every deprecated method counts its calls (tradesphere_deprecated_calls_total{method})
// and logs them (warn, at most once per minute per method).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/company_repository.hpp"
#include "domain/customer.hpp"
#include "domain/request_context.hpp"
#include "services/customer_crud_service.hpp"
#include "services/legacy_customer_service.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

enum class ImplMode { kNew, kLegacy, kCompare };

const char* to_string(ImplMode mode) noexcept;
// "new" | "legacy" | "compare"; ValidationError otherwise.
ImplMode parse_impl_mode(std::string_view text);

// Method names: "get_customer_list", "get_customer_details", "search_customers".
struct FacadeConfig {
  ImplMode default_mode = ImplMode::kNew;
  std::map<std::string, ImplMode> per_method;

  ImplMode mode_for(const std::string& method) const;
  // "get_customer_list=legacy,search_customers=compare" (or "*=compare" for the
  // default); ValidationError for an unknown method or mode. Empty = all new.
  static FacadeConfig parse(std::string_view spec);
};

// Profiles compared field by field, ignoring `id` (legacy has none), order-insensitive
// for lists (sorted by email, then name). Empty when equal; else a short description.
std::string describe_difference(const std::vector<CustomerProfile>& expected,
                                const std::vector<CustomerProfile>& actual);

class CustomerService {
 public:
  explicit CustomerService(db::Database& db, FacadeConfig config = {});

  void set_config(FacadeConfig config);
  FacadeConfig config() const;

  // The context the new implementation runs with: company from the tech id, role
  // from app_users, user id = tech id. NotFoundError for an unknown tech id.
  domain::RequestContext context_for(const std::string& tech_id, const std::string& correlation_id = "");

  [[deprecated("use services::CustomerCrudService::get_customers")]]
  std::vector<CustomerProfile> get_customer_list(const std::string& tech_id, const CustomerSearchFilters& filters);
  // By customer id (new), or by email / name as the legacy code did; one read-only
  // transaction after the tech id's context.
  [[deprecated("use services::CustomerCrudService::get_customer_with_metrics")]]
  std::optional<CustomerProfile> get_customer_details(const std::string& tech_id, const std::string& key);
  [[deprecated("use services::CustomerCrudService::search_customers")]]
  std::vector<CustomerProfile> search_customers(const std::string& tech_id, const std::string& query);
  [[deprecated("use services::CustomerCrudService::create_customer")]]
  domain::Customer create_customer(const std::string& tech_id, const domain::NewCustomer& customer);
  [[deprecated("use services::CustomerCrudService::update_customer with an expected version")]]
  domain::Customer update_customer(const std::string& tech_id, const std::string& customer_id,
                                   const domain::CustomerPatch& patch);
  [[deprecated("use services::CustomerCrudService::soft_delete_customer")]]
  void delete_customer(const std::string& tech_id, const std::string& customer_id);

  LegacyCustomerService& legacy() { return legacy_; }

  // Converts a new-model customer to the legacy shape.
  static CustomerProfile to_profile(const domain::CustomerWithMetrics& customer);

 private:
  void note_deprecated_call(const char* method);
  ImplMode mode_for(const std::string& method) const;
  void record_comparison(const char* method, const std::string& difference);

  db::Database& db_;
  db::CompanyRepository companies_;
  CustomerCrudService customers_;
  db::CustomerRepository records_;  // get_customer_details: its lookups in one transaction
  LegacyCustomerService legacy_;
  mutable std::mutex mutex_;
  FacadeConfig config_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_logged_;
};

}  // namespace tradesphere::services
