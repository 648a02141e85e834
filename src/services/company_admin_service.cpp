#include "services/company_admin_service.hpp"

#include "domain/errors.hpp"

namespace tradesphere::services {

db::Company CompanyAdminService::create_company(const std::string& slug, const std::string& name,
                                                const std::string& country_code) {
  return db::CompanyRepository(db_).create_company(slug, name.empty() ? slug : name, country_code);
}

db::Company CompanyAdminService::company_by_slug(const std::string& slug) {
  auto company = db::CompanyRepository(db_).find_company_by_slug(slug);
  if (!company) {
    throw domain::NotFoundError("no company with slug '" + slug + "' (create it: tradesphere company add " + slug + ")");
  }
  return *company;
}

db::AppUser CompanyAdminService::add_user(const std::string& tech_id, const std::string& company_id, domain::Role role) {
  return db::CompanyRepository(db_).add_app_user(tech_id, company_id, role);
}

}  // namespace tradesphere::services
