// Companies (tenants) and their users. Query code: every method runs in the
// caller's transaction, which has no tenant yet (the services own it:
// CompanyAdminService, the facade's context_for). Lookups work on the application
// role; insert_company / upsert_app_user need a transaction of a Database opened
// with the owner's URL (tradesphere_app has SELECT only on companies and app_users).
#pragma once

#include <optional>
#include <string>

#include "domain/company.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {

class Tx;

// The values (domain/company.hpp), by their names in this layer.
using domain::AppUser;
using domain::Company;

class CompanyRepository {
 public:
  // The company of a tech id through the SECURITY DEFINER function
  // get_user_company_id() (usable before the tenant is known); nullopt when unknown.
  std::optional<std::string> get_user_company_id(Tx& tx, const std::string& tech_id);
  // The user's company and role; nullopt when unknown. A legacy role name that is
  // not viewer|agent|admin reads as viewer. Enters the user's company
  // (app.company_id) for the rest of the transaction.
  std::optional<AppUser> find_app_user(Tx& tx, const std::string& tech_id);

  // By slug. Visible to the application role only for its own company
  // (app.company_id), to the owner for every company.
  std::optional<Company> find_company_by_slug(Tx& tx, const std::string& slug);

  // Owner only. ConflictError when the slug exists (the caller validates).
  Company insert_company(Tx& tx, const std::string& slug, const std::string& name,
                         const std::string& default_country_code);
  // Owner only. Inserts or updates the user's company and role.
  AppUser upsert_app_user(Tx& tx, const std::string& tech_id, const std::string& company_id, domain::Role role);
};

}  // namespace tradesphere::db
