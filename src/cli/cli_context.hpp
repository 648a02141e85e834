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

// The database of the data folder (or DATABASE_URL), started when needed, that
// has a schema. Throws std::runtime_error in one line naming the command that
// creates it (tradesphere migrate up) when no migration was ever applied.
db::DatabaseTarget migrated_database(const GlobalOptions& global);

// Resolves the slug with the owner's URL (companies are visible to the
// application role only from inside their own tenant). Throws std::runtime_error
// naming the slug when no company has it.
CompanyScope company_scope(const GlobalOptions& global, const std::string& slug);

}  // namespace tradesphere::cli
