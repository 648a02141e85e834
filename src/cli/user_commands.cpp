// tradesphere user add --company <slug> --tech-id <id> --role viewer|agent|admin
// Registers a user (tech id) of a company: the facade and the legacy chat writer
// resolve the company from it (get_user_company_id).
#include <iostream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "services/company_admin_service.hpp"

namespace tradesphere::cli {

void register_user_commands(CLI::App& app, GlobalOptions& g) {
  auto* user = app.add_subcommand("user", "Manage the users (tech ids) of a company");
  user->require_subcommand(1);
  auto* add = user->add_subcommand("add", "Register a tech id for a company (updates company and role when it exists)");
  auto slug = std::make_shared<std::string>();
  auto tech_id = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("agent");
  add->add_option("--company", *slug, "Company slug")->required();
  add->add_option("--tech-id", *tech_id, "The user's tech id")->required();
  add->add_option("--role", *role, "viewer | agent | admin")
      ->check(CLI::IsMember({"viewer", "agent", "admin"}))
      ->capture_default_str();
  add->callback([&g, slug, tech_id, role] {
    auto scope = company_scope(g, *slug);
    db::PoolOptions owner;
    owner.url = scope.target.admin_url;
    owner.size = 1;
    db::Database owner_db(owner);
    auto u = services::CompanyAdminService(owner_db).add_user(*tech_id, scope.ctx.company_id, domain::parse_role(*role));
    std::cout << u.tech_id << " " << u.company_id << " " << domain::to_string(u.role) << "\n";
  });
}

}  // namespace tradesphere::cli
