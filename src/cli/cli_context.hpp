// The tenant context of company-scoped CLI commands: the CLI acts as an admin of
// the company given by --company <slug> (user id "cli").
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "db/database_config.hpp"
#include "domain/request_context.hpp"

namespace tradesphere::cli {

struct CompanyScope {
  db::DatabaseTarget target;
  domain::RequestContext ctx;
  std::string default_country_code;
};

// Resolves the slug with the owner's URL (companies are visible to the
// application role only from inside their own tenant). Throws std::runtime_error
// naming the slug when no company has it.
CompanyScope company_scope(const GlobalOptions& global, const std::string& slug);

}  // namespace tradesphere::cli
