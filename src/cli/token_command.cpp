// tradesphere token --company <slug> --user <id> --role viewer|agent|admin [--ttl 1h]
// Prints a bearer token for the HTTP API, signed with the server's secret
// (TRADESPHERE_JWT_SECRET, else <data dir>/secrets/jwt.secret, generated once).
#include <chrono>
#include <iostream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "http/jwt.hpp"

namespace tradesphere::cli {

void register_token_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("token", "Print a bearer token (JWT) for the HTTP API, for local use");
  auto slug = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("agent");
  auto ttl = std::make_shared<std::string>("1h");
  cmd->add_option("--company", *slug, "Company slug")->required();
  cmd->add_option("--user", *user, "User id (the token's sub claim)")->required();
  cmd->add_option("--role", *role, "viewer | agent | admin")
      ->check(CLI::IsMember({"viewer", "agent", "admin"}))
      ->capture_default_str();
  cmd->add_option("--ttl", *ttl, "Lifetime: 30m, 1h, 7d, or seconds")->capture_default_str();
  cmd->callback([&g, slug, user, role, ttl] {
    auto scope = company_scope(g, *slug);
    http::TokenClaims claims;
    claims.user_id = *user;
    claims.company_id = scope.ctx.company_id;
    claims.role = domain::parse_role(*role);
    claims.expires_at = std::chrono::system_clock::now() + http::parse_ttl(*ttl);
    std::cout << http::issue_token(http::load_or_create_jwt_secret(g.data_dir), claims) << "\n";
  });
}

}  // namespace tradesphere::cli
