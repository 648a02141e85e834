// Companies (tenants) and their users. Lookups work on the application role;
// create_company / add_app_user need a Database opened with the owner's URL
// (tradesphere_app has SELECT only on companies and app_users) and run
// without a tenant context.
#pragma once

#include <optional>
#include <string>

#include "domain/request_context.hpp"

namespace tradesphere::db {

class Database;

struct Company {
  std::string id;
  std::string slug;
  std::string name;
  std::string default_country_code;

  bool operator==(const Company&) const = default;
};

struct AppUser {
  std::string tech_id;
  std::string company_id;
  domain::Role role = domain::Role::kAgent;
};

class CompanyRepository {
 public:
  explicit CompanyRepository(Database& db);

  // The company of a tech id through the SECURITY DEFINER function
  // get_user_company_id() (usable before the tenant is known); nullopt when unknown.
  std::optional<std::string> get_user_company_id(const std::string& tech_id);
  // The user's company and role; nullopt when unknown. A legacy role name that is
  // not viewer|agent|admin reads as viewer.
  std::optional<AppUser> find_app_user(const std::string& tech_id);

  // By slug. Visible to the application role only for its own company
  // (ctx.company_id), to the owner for every company.
  std::optional<Company> find_company_by_slug(const std::string& slug);

  // Owner connection only. ValidationError for a bad slug ([a-z0-9-], 1..63) or
  // calling code; ConflictError when the slug exists.
  Company create_company(const std::string& slug, const std::string& name,
                         const std::string& default_country_code = "1");
  // Owner connection only. Inserts or updates the user's company and role.
  AppUser add_app_user(const std::string& tech_id, const std::string& company_id, domain::Role role);

 private:
  Database& db_;
};

}  // namespace tradesphere::db
