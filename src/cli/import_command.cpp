// tradesphere import --company <slug> FILE.csv
//
// RFC 4180 CSV with a header (domain/csv.hpp explains why the parser is our own).
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
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/customer_import_repository.hpp"
#include "db/database.hpp"
#include "services/customer_merge_service.hpp"
#include "domain/csv.hpp"
#include "domain/csv_writer.hpp"
#include "domain/customer.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::cli {
namespace {

constexpr std::size_t kRetrainAfter = 1000;  // imported rows that trigger a new duplicate model

constexpr std::size_t kBatch = 1000;

std::optional<std::string> cell(const std::vector<std::string>& fields, const std::map<std::string, std::size_t>& cols,
                                const char* name) {
  auto it = cols.find(name);
  if (it == cols.end()) return std::nullopt;
  auto v = domain::trim(fields[it->second]);
  if (v.empty()) return std::nullopt;
  return v;
}

// A value for a stderr message: double-quoted, JSON escapes (a line break in a
// quoted CSV field must not break the one-message-per-line output).
std::string quoted(const std::string& v) {
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Builds a row or throws std::invalid_argument with the reason. Without `strict`,
// a malformed email / implausible phone is kept in attributes.invalid_<field>
// and described in `warnings` (messages without the "line N: " prefix).
db::ImportRow parse_row(const std::vector<std::string>& f, const std::map<std::string, std::size_t>& cols,
                        const std::vector<std::pair<std::string, std::size_t>>& extra, bool strict,
                        std::vector<std::string>& warnings) {
  db::ImportRow r;
  std::optional<std::string> bad_email, bad_phone;
  auto check_len = [](const std::optional<std::string>& v, std::size_t max, const char* field) {
    if (v && v->size() > max)
      throw std::invalid_argument(std::string(field) + ": longer than " + std::to_string(max) + " bytes");
  };
  r.external_id = cell(f, cols, "external_id");
  r.name = cell(f, cols, "name");
  r.address = cell(f, cols, "address");
  r.notes = cell(f, cols, "notes");
  check_len(r.external_id, domain::kMaxExternalIdLength, "external_id");
  check_len(r.name, domain::kMaxNameLength, "name");
  check_len(r.address, domain::kMaxAddressLength, "address");
  check_len(r.notes, domain::kMaxNotesLength, "notes");
  if (auto e = cell(f, cols, "email")) {
    auto n = domain::normalize_email(*e);
    if (n) r.email = *n;
    else if (strict) throw std::invalid_argument("email: '" + *e + "' is not a valid address");
    else bad_email = *e;
  }
  if (auto p = cell(f, cols, "phone")) {
    if (p->size() <= domain::kMaxPhoneLength && domain::is_plausible_phone(*p)) r.phone = *p;
    else if (strict) throw std::invalid_argument("phone: '" + *p + "' is not a phone number");
    else bad_phone = *p;
  }
  if (auto t = cell(f, cols, "tags")) {
    std::vector<std::string> raw;
    std::string cur;
    for (char c : *t) {
      if (c == ',' || c == ';' || c == '|') {
        raw.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    raw.push_back(cur);
    std::vector<std::string> kept;
    for (auto& x : raw)
      if (!domain::trim(x).empty()) kept.push_back(x);
    try {
      r.tags = domain::normalize_tags(kept);
    } catch (const domain::ValidationError& e) {
      throw std::invalid_argument(std::string("tags: ") + e.what());
    }
  }
  if (auto s = cell(f, cols, "lifecycle_stage")) {
    try {
      r.lifecycle_stage = domain::to_string(domain::parse_lifecycle_stage(domain::to_lower_ascii(*s)));
    } catch (const domain::ValidationError&) {
      throw std::invalid_argument("lifecycle_stage: '" + *s + "' is not one of prospect, lead, customer, churned");
    }
  }
  for (const auto& [name, index] : extra) {
    auto v = domain::trim(f[index]);
    if (!v.empty()) r.attributes[name] = v;
  }
  auto keep_invalid = [&](const std::optional<std::string>& raw, const std::string& field) {
    if (!raw) return;
    const std::string key = "invalid_" + field;
    // Never overwrite a value of the file's own column of that name.
    if (r.attributes.contains(key))
      throw std::invalid_argument(field + ": '" + *raw + "' is not valid, and attributes." + key +
                                  " is already set by the column '" + key + "'");
    r.attributes[key] = *raw;
    warnings.push_back("warning: invalid " + field + " " + quoted(*raw) + " kept in attributes." + key +
                       ", not a matching key (duplicate finding still compares it)");
  };
  keep_invalid(bad_email, "email");
  keep_invalid(bad_phone, "phone");
  std::size_t attributes_bytes = 0;
  try {
    attributes_bytes = r.attributes.dump().size();
  } catch (const nlohmann::json::type_error&) {
    throw std::invalid_argument("attributes: not valid UTF-8");
  }
  if (attributes_bytes > domain::kMaxAttributesBytes)
    throw std::invalid_argument("attributes: more than " + std::to_string(domain::kMaxAttributesBytes) + " bytes");
  if (!r.name && !r.email && !r.phone && !r.external_id) {
    std::string why;
    if (bad_email) why += "email '" + *bad_email + "' is not a valid address";
    if (bad_phone) why += std::string(why.empty() ? "" : ", ") + "phone '" + *bad_phone + "' is not a phone number";
    throw std::invalid_argument("needs at least one of name, email, phone, external_id" +
                                (why.empty() ? std::string() : " (" + why + ")"));
  }
  return r;
}

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
    const auto existing_email = *on_existing == "skip"     ? db::ExistingEmail::kSkip
                                : *on_existing == "update" ? db::ExistingEmail::kUpdate
                                                           : db::ExistingEmail::kKeep;
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
    domain::CsvReader reader(in);
    domain::CsvRecord rec;
    if (!reader.next(rec) || !rec.error.empty()) throw std::runtime_error("the file has no valid header line");
    static const std::set<std::string> kKnown = {"external_id", "name", "email", "phone",
                                                 "address", "notes", "tags", "lifecycle_stage"};
    std::map<std::string, std::size_t> cols;
    std::vector<std::pair<std::string, std::size_t>> extra;
    const std::size_t width = rec.fields.size();
    for (std::size_t i = 0; i < width; ++i) {
      auto h = domain::to_lower_ascii(domain::trim(rec.fields[i]));
      if (h.empty()) throw std::runtime_error("header column " + std::to_string(i + 1) + " has no name");
      bool dup = cols.count(h) || std::any_of(extra.begin(), extra.end(), [&](auto& e) { return e.first == h; });
      if (dup) throw std::runtime_error("header column '" + h + "' appears twice");
      if (kKnown.count(h)) cols[h] = i;
      else extra.emplace_back(h, i);
    }

    std::size_t rejected = 0, imported = 0, rows_seen = 0, warned = 0, skipped = 0, updated = 0;
    std::map<std::string, std::size_t> external_line;  // external_id -> line (within the file)
    std::vector<db::ImportRow> batch;
    std::vector<std::size_t> batch_lines;
    std::vector<std::vector<std::string>> batch_warnings;  // printed once the row is in
    auto reject = [&](std::size_t line, const std::string& reason) {
      ++rejected;
      std::fprintf(stderr, "line %zu: %s\n", line, reason.c_str());
    };
    auto flush = [&] {
      if (batch.empty()) return;
      auto result = database.transact(scope.ctx, "import_customers", [&](db::Tx& tx) {
        return db::insert_import_batch(tx, scope.ctx.company_id, batch, existing_email);
      });
      imported += result.inserted;
      std::set<std::string> not_imported(result.existing_external_ids.begin(), result.existing_external_ids.end());
      std::set<std::size_t> by_email;
      for (const auto& e : result.existing_emails) {
        by_email.insert(e.index);
        const bool update = existing_email == db::ExistingEmail::kUpdate;
        ++(update ? updated : skipped);
        std::fprintf(stderr, "line %zu: %s: email '%s' belongs to customer %s\n", batch_lines[e.index],
                     update ? "updated the customer" : "skipped", batch[e.index].email.value_or("").c_str(),
                     e.customer_id.c_str());
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (by_email.count(i)) continue;
        if (batch[i].external_id && not_imported.count(*batch[i].external_id)) continue;
        for (const auto& w : batch_warnings[i]) {
          ++warned;
          std::fprintf(stderr, "line %zu: %s\n", batch_lines[i], w.c_str());
        }
      }
      for (const auto& ext : result.existing_external_ids)
        reject(external_line[ext], "external_id '" + ext + "' already exists in the company");
      batch.clear();
      batch_lines.clear();
      batch_warnings.clear();
      if (!*quiet)
        std::fprintf(stderr, "import: %zu rows read, %zu imported, %zu rejected, %zu warnings (%.0f%%)\n", rows_seen,
                     imported, rejected, warned,
                     total_bytes ? 100.0 * static_cast<double>(reader.bytes_read()) / total_bytes : 100.0);
    };
    while (reader.next(rec)) {
      ++rows_seen;
      if (!rec.error.empty()) {
        reject(rec.line, rec.error);
        continue;
      }
      if (rec.fields.size() != width) {
        reject(rec.line, "expected " + std::to_string(width) + " fields, got " + std::to_string(rec.fields.size()));
        continue;
      }
      try {
        // a file written by `tradesphere export`: its formula guard comes off (domain/csv_writer.hpp)
        for (auto& f : rec.fields) {
          if (const auto bare = domain::csv_unguard(f); bare.size() != f.size()) f = std::string(bare);
        }
        std::vector<std::string> warnings;
        auto row = parse_row(rec.fields, cols, extra, *strict, warnings);
        if (row.external_id) {
          auto [it, fresh] = external_line.emplace(*row.external_id, rec.line);
          if (!fresh) {
            reject(rec.line, "external_id '" + *row.external_id + "' repeats line " + std::to_string(it->second));
            continue;
          }
        }
        batch.push_back(std::move(row));
        batch_lines.push_back(rec.line);
        batch_warnings.push_back(std::move(warnings));
      } catch (const std::invalid_argument& e) {
        reject(rec.line, e.what());
      }
      if (batch.size() >= kBatch) flush();
    }
    flush();
    // A large import changes what duplicates look like in this company: estimate the model again.
    if (imported >= kRetrainAfter) {
      services::CustomerMergeService merges(database);
      auto report = merges.train_duplicate_model(scope.ctx);
      std::fprintf(stderr, "import: duplicate model re-estimated on %zu records (%s)\n", report.records,
                   report.model ? report.model->source.c_str() : "-");
    }
    if (existing_email == db::ExistingEmail::kKeep)
      std::printf("imported %zu, rejected %zu, warnings %zu\n", imported, rejected, warned);
    else
      std::printf("imported %zu, rejected %zu, warnings %zu, %s %zu (email already held)\n", imported, rejected, warned,
                  existing_email == db::ExistingEmail::kSkip ? "skipped" : "updated",
                  existing_email == db::ExistingEmail::kSkip ? skipped : updated);
    if (rejected > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace tradesphere::cli
