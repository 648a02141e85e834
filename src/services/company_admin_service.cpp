#include "services/company_admin_service.hpp"

#include <regex>
#include <vector>

#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

// No tenant: companies and users are administered across tenants.
domain::RequestContext admin_context() {
  domain::RequestContext ctx;
  ctx.user_id = "cli";
  ctx.role = domain::Role::kAdmin;
  return ctx;
}

}  // namespace

domain::Company CompanyAdminService::create_company(const std::string& slug, const std::string& name,
                                                const std::string& country_code) {
  const std::string display_name = name.empty() ? slug : name;
  static const std::regex kSlug("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
  static const std::regex kCallingCode("^[1-9][0-9]{0,2}$");
  std::vector<domain::FieldError> errors;
  if (!std::regex_match(slug, kSlug)) errors.push_back({"slug", "must be 1..63 of a-z, 0-9, '-' (not at the ends)"});
  if (display_name.empty() || display_name.size() > 200) errors.push_back({"name", "must be 1..200 characters"});
  if (!std::regex_match(country_code, kCallingCode)) {
    errors.push_back({"default_country_code", "must be a calling code such as 1 or 44"});
  }
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  return db_.transact(admin_context(), "create_company", [&](db::Tx& tx) {
    return companies_.insert_company(tx, slug, display_name, country_code);
  });
}

domain::Company CompanyAdminService::company_by_slug(const std::string& slug) {
  auto company = db_.transact(
      admin_context(), "find_company_by_slug",
      [&](db::Tx& tx) { return companies_.find_company_by_slug(tx, slug); }, db::TxMode::kReadOnly);
  if (!company) {
    throw domain::NotFoundError("no company with slug '" + slug + "' (create it: tradesphere company add " + slug + ")");
  }
  return *company;
}

domain::AppUser CompanyAdminService::add_user(const std::string& tech_id, const std::string& company_id, domain::Role role) {
  if (tech_id.empty() || tech_id.size() > 200) throw domain::ValidationError("tech_id", "must be 1..200 characters");
  if (!domain::is_uuid(company_id)) throw domain::NotFoundError("company " + company_id + " not found");
  return db_.transact(admin_context(), "add_app_user",
                      [&](db::Tx& tx) { return companies_.upsert_app_user(tx, tech_id, company_id, role); });
}

}  // namespace tradesphere::services
