// tradesphere company add <slug> [--name N] [--country-code C]
#include <iostream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "services/company_admin_service.hpp"

namespace tradesphere::cli {

db::DatabaseTarget migrated_database(const GlobalOptions& global) {
  const auto options = global.database();
  auto target = db::resolve_database(options);
  if (!db::MigrationRunner(target.admin_url).has_history()) {
    std::string command = "tradesphere";
    if (!options.database_url && options.data_dir != "var") command += " --data-dir " + options.data_dir;
    throw std::runtime_error("the database has no schema yet; create it with: " + command + " migrate up");
  }
  return target;
}

CompanyScope company_scope(const GlobalOptions& global, const std::string& slug) {
  CompanyScope s;
  s.target = migrated_database(global);
  db::PoolOptions owner;
  owner.url = s.target.admin_url;
  owner.size = 1;
  db::Database owner_db(owner);
  const auto company = services::CompanyAdminService(owner_db).company_by_slug(slug);
  s.ctx = {company.id, "cli", domain::Role::kAdmin, ""};
  s.default_country_code = company.default_country_code;
  return s;
}

void register_company_commands(CLI::App& app, GlobalOptions& g) {
  auto* company = app.add_subcommand("company", "Manage companies (tenants)");
  company->require_subcommand(1);
  auto* add = company->add_subcommand("add", "Create a company; prints its id");
  auto slug = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto cc = std::make_shared<std::string>("1");
  add->add_option("slug", *slug, "Short unique name: a-z, 0-9, '-'")->required();
  add->add_option("--name", *name, "Display name (default: the slug)");
  add->add_option("--country-code", *cc, "Country calling code for phone numbers without '+' (1, 44, 49, ...)")
      ->capture_default_str();
  add->callback([&g, slug, name, cc] {
    auto target = migrated_database(g);
    db::PoolOptions owner;
    owner.url = target.admin_url;
    owner.size = 1;
    db::Database owner_db(owner);
    auto c = services::CompanyAdminService(owner_db).create_company(*slug, *name, *cc);
    std::cout << c.id << "\n";
  });
}

}  // namespace tradesphere::cli
