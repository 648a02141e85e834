// Companies (tenants) and their users, administered from the CLI (`company add`,
// `user add`, and the --company scope of every company-scoped command). Works on
// a Database opened with the owner's URL: tradesphere_app may read companies only
// from inside its own tenant and may not create companies or users.
#pragma once

#include <optional>
#include <string>

#include "db/company_repository.hpp"
#include "domain/company.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::db {
class Database;
}  // namespace tradesphere::db

namespace tradesphere::services {

class CompanyAdminService {
 public:
  explicit CompanyAdminService(db::Database& owner_db) : db_(owner_db) {}

  // ValidationError for a bad slug or calling code; ConflictError when the slug exists.
  domain::Company create_company(const std::string& slug, const std::string& name, const std::string& country_code);
  // NotFoundError naming the slug (and the command that creates it) when no company has it.
  domain::Company company_by_slug(const std::string& slug);
  // Inserts or updates the user's company and role. ValidationError for a bad tech id,
  // NotFoundError for a company id that is not a uuid.
  domain::AppUser add_user(const std::string& tech_id, const std::string& company_id, domain::Role role);

 private:
  db::Database& db_;
  db::CompanyRepository companies_;
};

}  // namespace tradesphere::services
