#include "db/company_repository.hpp"

#include <regex>

#include "db/database.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::db {
namespace {

constexpr const char* kUserCompany = "SELECT get_user_company_id($1)::text";
constexpr const char* kEnterCompany = "SELECT set_config('app.company_id', $1, true)";
constexpr const char* kUserRole = R"SQL(
SELECT u.role FROM app_users u WHERE u.company_id = $1::uuid AND u.tech_id = $2
)SQL";
constexpr const char* kCompanyBySlug = R"SQL(
SELECT co.id::text, co.slug, co.name, co.default_country_code FROM companies co WHERE co.slug = $1
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

// No tenant yet: these transactions run with an empty app.company_id.
domain::RequestContext system_context(const std::string& user) {
  domain::RequestContext ctx;
  ctx.user_id = user;
  ctx.role = domain::Role::kAdmin;
  return ctx;
}

domain::Role role_or_viewer(const std::string& text) {
  if (text == "admin") return domain::Role::kAdmin;
  if (text == "agent") return domain::Role::kAgent;
  return domain::Role::kViewer;
}

Company company_from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()};
}

}  // namespace

CompanyRepository::CompanyRepository(Database& db) : db_(db) {}

std::optional<std::string> CompanyRepository::get_user_company_id(const std::string& tech_id) {
  return db_.transact(
      system_context(tech_id), "get_user_company_id",
      [&](Tx& tx) { return tx.exec1(kUserCompany, tech_id)[0].as<std::optional<std::string>>(); },
      TxMode::kReadOnly);
}

std::optional<AppUser> CompanyRepository::find_app_user(const std::string& tech_id) {
  return db_.transact(
      system_context(tech_id), "find_app_user",
      [&](Tx& tx) -> std::optional<AppUser> {
        auto company = tx.exec1(kUserCompany, tech_id)[0].as<std::optional<std::string>>();
        if (!company) return std::nullopt;
        tx.exec(kEnterCompany, *company);
        auto row = tx.exec01(kUserRole, *company, tech_id);
        if (!row) return std::nullopt;
        return AppUser{tech_id, *company, role_or_viewer((*row)[0].as<std::string>())};
      },
      TxMode::kReadOnly);
}

std::optional<Company> CompanyRepository::find_company_by_slug(const std::string& slug) {
  return db_.transact(
      system_context(""), "find_company_by_slug",
      [&](Tx& tx) -> std::optional<Company> {
        auto row = tx.exec01(kCompanyBySlug, slug);
        if (!row) return std::nullopt;
        return company_from_row(*row);
      },
      TxMode::kReadOnly);
}

Company CompanyRepository::create_company(const std::string& slug, const std::string& name,
                                          const std::string& default_country_code) {
  static const std::regex kSlug("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
  static const std::regex kCallingCode("^[1-9][0-9]{0,2}$");
  std::vector<domain::FieldError> errors;
  if (!std::regex_match(slug, kSlug)) errors.push_back({"slug", "must be 1..63 of a-z, 0-9, '-' (not at the ends)"});
  if (name.empty() || name.size() > 200) errors.push_back({"name", "must be 1..200 characters"});
  if (!std::regex_match(default_country_code, kCallingCode)) {
    errors.push_back({"default_country_code", "must be a calling code such as 1 or 44"});
  }
  if (!errors.empty()) throw domain::ValidationError(std::move(errors));
  return db_.transact(system_context("cli"), "create_company", [&](Tx& tx) {
    return company_from_row(tx.exec1(kInsertCompany, slug, name, default_country_code));
  });
}

AppUser CompanyRepository::add_app_user(const std::string& tech_id, const std::string& company_id,
                                        domain::Role role) {
  if (tech_id.empty() || tech_id.size() > 200) throw domain::ValidationError("tech_id", "must be 1..200 characters");
  if (!domain::is_uuid(company_id)) throw domain::NotFoundError("company " + company_id + " not found");
  return db_.transact(system_context("cli"), "add_app_user", [&](Tx& tx) {
    auto row = tx.exec1(kUpsertAppUser, tech_id, company_id, std::string(domain::to_string(role)));
    return AppUser{row[0].as<std::string>(), row[1].as<std::string>(), role_or_viewer(row[2].as<std::string>())};
  });
}

}  // namespace tradesphere::db
