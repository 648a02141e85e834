#include "db/company_repository.hpp"

#include "db/database.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kUserCompany = "SELECT get_user_company_id($1)::text";
constexpr const char* kEnterCompany = "SELECT set_config('app.company_id', $1, true)";
constexpr const char* kUserRole = R"SQL(
SELECT u.role FROM app_users u WHERE u.company_id = $1::uuid AND u.tech_id = $2
)SQL";
// The one lookup by slug. Through to_jsonb it also reads a database still at
// version 1 (migration 0001's companies have no default_country_code; it reads as
// the column's default, '1'), as `tradesphere-dev seed --legacy` writes for
// upgrade rehearsals.
constexpr const char* kCompanyBySlug = R"SQL(
SELECT co.id::text, co.slug, co.name, coalesce(to_jsonb(co) ->> 'default_country_code', '1')
  FROM companies co WHERE co.slug = $1
)SQL";
constexpr const char* kInsertCompany = R"SQL(
INSERT INTO companies (slug, name, default_country_code) VALUES ($1, $2, $3)
RETURNING id::text, slug, name, default_country_code
)SQL";
constexpr const char* kUpsertAppUser = R"SQL(
INSERT INTO app_users (tech_id, company_id, role) VALUES ($1, $2::uuid, $3)
ON CONFLICT (tech_id) DO UPDATE SET company_id = EXCLUDED.company_id, role = EXCLUDED.role
RETURNING tech_id, company_id::text, role
)SQL";

domain::Role role_or_viewer(const std::string& text) {
  if (text == "admin") return domain::Role::kAdmin;
  if (text == "agent") return domain::Role::kAgent;
  return domain::Role::kViewer;
}

Company company_from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()};
}

}  // namespace

std::optional<std::string> CompanyRepository::get_user_company_id(Tx& tx, const std::string& tech_id) {
  return tx.exec1(kUserCompany, tech_id)[0].as<std::optional<std::string>>();
}

std::optional<AppUser> CompanyRepository::find_app_user(Tx& tx, const std::string& tech_id) {
  auto company = get_user_company_id(tx, tech_id);
  if (!company) return std::nullopt;
  tx.exec(kEnterCompany, *company);
  auto row = tx.exec01(kUserRole, *company, tech_id);
  if (!row) return std::nullopt;
  return AppUser{tech_id, *company, role_or_viewer((*row)[0].as<std::string>())};
}

std::optional<Company> CompanyRepository::find_company_by_slug(Tx& tx, const std::string& slug) {
  auto row = tx.exec01(kCompanyBySlug, slug);
  if (!row) return std::nullopt;
  return company_from_row(*row);
}

Company CompanyRepository::insert_company(Tx& tx, const std::string& slug, const std::string& name,
                                          const std::string& default_country_code) {
  return company_from_row(tx.exec1(kInsertCompany, slug, name, default_country_code));
}

AppUser CompanyRepository::upsert_app_user(Tx& tx, const std::string& tech_id, const std::string& company_id,
                                           domain::Role role) {
  auto row = tx.exec1(kUpsertAppUser, tech_id, company_id, std::string(domain::to_string(role)));
  return AppUser{row[0].as<std::string>(), row[1].as<std::string>(), role_or_viewer(row[2].as<std::string>())};
}

}  // namespace tradesphere::db
