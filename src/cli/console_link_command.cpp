// tradesphere console-link --company <slug> --user <id> [--role viewer|agent|admin] [--url http://host:port]
// Prints a one-time sign-in URL for the operator console: single use, valid for
// 10 minutes; only the code's SHA-256 is stored (console_sign_in_codes).
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "http/console_session.hpp"
#include "services/console_session_service.hpp"

namespace tradesphere::cli {
namespace {

std::string default_console_url() {
  const char* host = std::getenv("TRADESPHERE_HOST");
  const char* port = std::getenv("TRADESPHERE_PORT");
  std::string h = host && *host ? host : "127.0.0.1";
  if (h == "0.0.0.0") h = "127.0.0.1";
  return "http://" + h + ":" + (port && *port ? port : "8080");
}

}  // namespace

void register_console_link_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("console-link", "Print a one-time sign-in URL for the operator console");
  auto slug = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("agent");
  auto url = std::make_shared<std::string>(default_console_url());
  cmd->add_option("--company", *slug, "Company slug")->required();
  cmd->add_option("--user", *user, "User id (tech id) who signs in")->required();
  cmd->add_option("--role", *role, "viewer | agent | admin")
      ->check(CLI::IsMember({"viewer", "agent", "admin"}))
      ->capture_default_str();
  cmd->add_option("--url", *url, "Base URL of the server (default from TRADESPHERE_HOST/TRADESPHERE_PORT)")
      ->envname("TRADESPHERE_CONSOLE_URL")
      ->capture_default_str();
  cmd->callback([&g, slug, user, role, url] {
    if (user->empty() || user->size() > 200) throw std::runtime_error("--user must be 1..200 characters");
    auto scope = company_scope(g, *slug);
    db::PoolOptions pool;
    pool.url = scope.target.app_url;
    pool.size = 1;
    db::Database database(pool);
    const auto code = http::new_sign_in_code();
    services::ConsoleSessionService(database).create_sign_in_code(scope.ctx, http::sign_in_code_hash(code), *user,
                                                                  domain::parse_role(*role), http::kSignInCodeLifetime);
    std::cout << http::console_link(*url, code) << "\n";
  });
}

}  // namespace tradesphere::cli
