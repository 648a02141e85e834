// tradesphere export --company <slug> [--output FILE] [filters]
//
// The customer list as CSV, exactly what GET /v1/customers/export answers for
// the same filters: the same parser (domain::parse_customer_export_filters), the
// same service (services::CustomerExportService, one keyset page per statement),
// the same columns (domain/customer_csv.hpp). Written to stdout by default; with
// --output, to a temporary file next to FILE (mode 0600: it holds personal data)
// renamed over FILE once complete, so a failed export never leaves half a file.
// The number of customers written goes to stderr.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "domain/customer_filters.hpp"
#include "domain/errors.hpp"
#include "services/customer_export_service.hpp"

namespace tradesphere::cli {
namespace {

// A CLI flag and the list's query parameter it sets.
struct FilterFlag {
  const char* flags;
  const char* param;
  const char* help;
};

constexpr FilterFlag kFilterFlags[] = {
    {"--stage,--lifecycle-stage", "lifecycle_stage", "prospect | lead | customer | churned"},
    {"--tags-any", "tags_any", "Comma-separated tags; customers with any of them"},
    {"--source", "source", "chat | manual | import | api"},
    {"--created-from", "created_from", "ISO-8601 date or date-time with zone (inclusive)"},
    {"--created-to", "created_to", "ISO-8601 date or date-time with zone (exclusive)"},
    {"--last-contact-from", "last_contact_from", "ISO-8601 (inclusive)"},
    {"--last-contact-to", "last_contact_to", "ISO-8601 (exclusive)"},
    {"--has-email", "has_email", "true | false"},
    {"--has-phone", "has_phone", "true | false"},
    {"--q,--search", "q", "Free text: name, email or phone digits (as the list's q)"},
    {"--sort", "sort", "name | created_at (default) | last_contact | conversation_count"},
    {"--order", "order", "asc | desc (default: asc for name, desc otherwise)"},
};

// The flag that sets a query parameter, for error messages.
std::string flag_of(const std::string& param) {
  if (param == "tags_all") return "--tag";
  for (const auto& f : kFilterFlags) {
    if (param == f.param) {
      std::string flags = f.flags;
      return flags.substr(0, flags.find(','));
    }
  }
  return param;
}

std::int64_t write_to_file(services::CustomerExportService& exports, const domain::RequestContext& ctx,
                           const domain::CustomerFilters& filters, const std::filesystem::path& target) {
  namespace fs = std::filesystem;
  const fs::path tmp = target.string() + ".tmp-" + std::to_string(::getpid());
  std::int64_t rows = 0;
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
      fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
      rows = exports.write(ctx, filters, out);
      out.close();
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  return rows;
}

}  // namespace

void register_export_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "export", "Write the company's customers as CSV (the filters and sort of GET /v1/customers/export)");
  auto slug = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto tags_all = std::make_shared<std::vector<std::string>>();
  auto values = std::make_shared<std::map<std::string, std::string>>();
  cmd->add_option("--company", *slug, "Company slug")->required();
  cmd->add_option("-o,--output", *output, "File to write (default: standard output)");
  cmd->add_option("--tag", *tags_all, "A tag the customers must have (repeat for several: all of them)");
  for (const auto& f : kFilterFlags) {
    const std::string param = f.param;
    cmd->add_option_function<std::string>(
        f.flags, [values, param](const std::string& v) { (*values)[param] = v; }, f.help);
  }
  cmd->callback([&g, slug, output, tags_all, values] {
    auto params = *values;
    if (!tags_all->empty()) {
      std::string joined;
      for (const auto& t : *tags_all) joined += (joined.empty() ? "" : ",") + t;
      params["tags_all"] = joined;
    }
    domain::CustomerFilters filters;
    try {
      filters = domain::parse_customer_export_filters(params);
    } catch (const domain::ValidationError& e) {
      std::string message = "invalid filters";
      for (const auto& f : e.fields()) message += "; " + flag_of(f.field) + ": " + f.reason;
      throw std::runtime_error(message);
    }
    auto scope = company_scope(g, *slug);
    scope.ctx.role = domain::Role::kViewer;  // an export only reads
    db::PoolOptions o;
    o.url = scope.target.app_url;
    o.size = 1;
    db::Database database(o);
    services::CustomerExportService exports(database);
    std::int64_t rows = 0;
    if (output->empty()) {
      rows = exports.write(scope.ctx, filters, std::cout);
    } else {
      rows = write_to_file(exports, scope.ctx, filters, *output);
    }
    std::cerr << "exported " << rows << " customer" << (rows == 1 ? "" : "s")
              << (output->empty() ? std::string() : " to " + *output) << "\n";
  });
}

}  // namespace tradesphere::cli
