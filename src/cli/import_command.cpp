// tradesphere import --company <slug> FILE.csv
//
// The parsing and rules are services::CustomerImportService's (shared with
// POST /v1/customers/import). RFC 4180 CSV with a header.
// Known columns: external_id,name,email,phone,address,notes,tags,lifecycle_stage
// (any subset, any order; header names are trimmed and lower-cased); any other
// column goes into `attributes` (string values; empty cells are left out). Each valid row
// becomes one customer with source 'import' (no automatic merging). Invalid rows
// are reported on stderr as "line N: reason" and skipped. A malformed email or an
// implausible phone does not cost the row (issue 13): the raw value (trimmed) goes
// to attributes.invalid_email / attributes.invalid_phone, the email/phone column
// stays empty (it feeds matching keys and chat sync), and stderr gets
// "line N: warning: ..."; --strict rejects such rows instead. Exit status 0 only
// when no row was rejected (1 otherwise; warnings alone do not fail). Rows are
// inserted 1000 per statement, one transaction per batch; progress goes to stderr.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "services/customer_import_service.hpp"
#include "services/customer_merge_service.hpp"

namespace tradesphere::cli {
namespace {

constexpr std::size_t kRetrainAfter = 1000;  // imported rows that trigger a new duplicate model

}  // namespace

void register_import_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("import", "Import customers from an RFC 4180 CSV file with a header");
  auto slug = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto strict = std::make_shared<bool>(false);
  auto on_existing = std::make_shared<std::string>("keep");
  cmd->add_option("--company", *slug, "Company slug")->required();
  cmd->add_option("file", *file, "CSV file (columns: external_id,name,email,phone,address,notes,tags,lifecycle_stage)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--quiet", *quiet, "No progress output");
  cmd->add_flag("--strict", *strict,
                "Reject rows with a malformed email or an implausible phone (default: import the row, keep the raw "
                "value in attributes.invalid_email / attributes.invalid_phone and warn)");
  cmd->add_option("--on-existing-email", *on_existing,
                  "A row whose email (normalized) belongs to an active customer: keep (import it too; the default), "
                  "skip (report the holder), update (apply the row's non-empty name, phone, address, notes and "
                  "tags to the holder)")
      ->check(CLI::IsMember({"keep", "skip", "update"}));
  cmd->callback([&g, slug, file, quiet, strict, on_existing] {
    const auto existing_email = services::parse_existing_email(*on_existing).value();  // checked by CLI11
    auto scope = company_scope(g, *slug);
    db::PoolOptions o;
    o.url = scope.target.app_url;
    o.size = 1;
    o.statement_timeout = std::chrono::milliseconds(120000);
    db::Database database(o);

    std::ifstream in(*file, std::ios::binary);
    in.seekg(0, std::ios::end);
    auto total_bytes = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    services::ImportOptions options;
    options.strict = *strict;
    options.on_existing_email = existing_email;
    services::ImportCallbacks callbacks;
    callbacks.on_message = [](const services::ImportMessage& m) {
      std::fprintf(stderr, "line %zu: %s\n", m.line, m.text.c_str());
    };
    if (!*quiet) {
      callbacks.on_progress = [total_bytes](const services::ImportReport& r, std::size_t bytes_read) {
        std::fprintf(stderr, "import: %zu rows read, %zu imported, %zu rejected, %zu warnings (%.0f%%)\n", r.rows,
                     r.imported, r.rejected, r.warnings,
                     total_bytes ? 100.0 * static_cast<double>(bytes_read) / total_bytes : 100.0);
      };
    }
    services::CustomerImportService importer(database);
    const auto report = importer.import_csv(scope.ctx, in, options, callbacks);
    const std::size_t imported = report.imported, rejected = report.rejected, warned = report.warnings,
                      skipped = report.skipped, updated = report.updated;
    // A large import changes what duplicates look like in this company: estimate the model again.
    if (imported >= kRetrainAfter) {
      services::CustomerMergeService merges(database);
      auto trained = merges.train_duplicate_model(scope.ctx);
      std::fprintf(stderr, "import: duplicate model re-estimated on %zu records (%s)\n", trained.records,
                   trained.model ? trained.model->source.c_str() : "-");
    }
    if (existing_email == domain::ExistingEmail::kKeep)
      std::printf("imported %zu, rejected %zu, warnings %zu\n", imported, rejected, warned);
    else
      std::printf("imported %zu, rejected %zu, warnings %zu, %s %zu (email already held)\n", imported, rejected, warned,
                  existing_email == domain::ExistingEmail::kSkip ? "skipped" : "updated",
                  existing_email == domain::ExistingEmail::kSkip ? skipped : updated);
    if (rejected > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace tradesphere::cli
