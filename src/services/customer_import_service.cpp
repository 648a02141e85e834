#include "services/customer_import_service.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "domain/csv.hpp"
#include "domain/csv_writer.hpp"
#include "domain/customer.hpp"
#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::services {
namespace {

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

// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace

std::optional<domain::ExistingEmail> parse_existing_email(std::string_view text) noexcept {
  if (text == "keep") return domain::ExistingEmail::kKeep;
  if (text == "skip") return domain::ExistingEmail::kSkip;
  if (text == "update") return domain::ExistingEmail::kUpdate;
  return std::nullopt;
}

const char* to_string(ImportMessage::Kind kind) noexcept {
  switch (kind) {
    case ImportMessage::Kind::kRejected: return "rejected";
    case ImportMessage::Kind::kWarning: return "warning";
    case ImportMessage::Kind::kSkipped: return "skipped";
    case ImportMessage::Kind::kUpdated: return "updated";
  }
  return "rejected";
}

ImportReport CustomerImportService::import_csv(const domain::RequestContext& ctx, std::istream& in,
                                               const ImportOptions& options, const ImportCallbacks& callbacks) {
  if (!ctx.can_write()) {
    throw domain::PermissionError("role " + std::string(domain::to_string(ctx.role)) + " may not import customers");
  }
  const auto existing_email = options.on_existing_email;
  domain::CsvReader reader(in);
  domain::CsvRecord rec;
  if (!reader.next(rec) || !rec.error.empty()) throw ImportFileError("the file has no valid header line");
  static const std::set<std::string> kKnown = {"external_id", "name", "email", "phone",
                                               "address", "notes", "tags", "lifecycle_stage"};
  if (!std::all_of(rec.fields.begin(), rec.fields.end(), valid_utf8))
    throw ImportFileError("the header line is not valid UTF-8");
  std::map<std::string, std::size_t> cols;
  std::vector<std::pair<std::string, std::size_t>> extra;
  const std::size_t width = rec.fields.size();
  for (std::size_t i = 0; i < width; ++i) {
    auto h = domain::to_lower_ascii(domain::trim(rec.fields[i]));
    if (h.empty()) throw ImportFileError("header column " + std::to_string(i + 1) + " has no name");
    bool dup = cols.count(h) || std::any_of(extra.begin(), extra.end(), [&](auto& e) { return e.first == h; });
    if (dup) throw ImportFileError("header column '" + h + "' appears twice");
    if (kKnown.count(h)) cols[h] = i;
    else extra.emplace_back(h, i);
  }

  ImportReport report;
  auto emit = [&](std::size_t line, ImportMessage::Kind kind, std::string text, std::string customer_id = {}) {
    if (callbacks.on_message) callbacks.on_message(ImportMessage{line, kind, std::move(text), std::move(customer_id)});
  };
  std::map<std::string, std::size_t> external_line;  // external_id -> line (within the file)
  std::vector<db::ImportRow> batch;
  std::vector<std::size_t> batch_lines;
  std::vector<std::vector<std::string>> batch_warnings;  // reported once the row is in
  auto reject = [&](std::size_t line, const std::string& reason) {
    ++report.rejected;
    emit(line, ImportMessage::Kind::kRejected, reason);
  };
  auto flush = [&] {
    if (batch.empty()) return;
    auto result = db_.transact(ctx, "import_customers", [&](db::Tx& tx) {
      return db::insert_import_batch(tx, ctx.company_id, batch, existing_email);
    });
    report.imported += result.inserted;
    std::set<std::string> not_imported(result.existing_external_ids.begin(), result.existing_external_ids.end());
    std::set<std::size_t> by_email;
    for (const auto& e : result.existing_emails) {
      by_email.insert(e.index);
      const bool update = existing_email == domain::ExistingEmail::kUpdate;
      ++(update ? report.updated : report.skipped);
      emit(batch_lines[e.index], update ? ImportMessage::Kind::kUpdated : ImportMessage::Kind::kSkipped,
           std::string(update ? "updated the customer" : "skipped") + ": email '" +
               batch[e.index].email.value_or("") + "' belongs to customer " + e.customer_id,
           e.customer_id);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (by_email.count(i)) continue;
      if (batch[i].external_id && not_imported.count(*batch[i].external_id)) continue;
      for (const auto& w : batch_warnings[i]) {
        ++report.warnings;
        emit(batch_lines[i], ImportMessage::Kind::kWarning, w);
      }
    }
    for (const auto& ext : result.existing_external_ids)
      reject(external_line[ext], "external_id '" + ext + "' already exists in the company");
    batch.clear();
    batch_lines.clear();
    batch_warnings.clear();
    if (callbacks.on_progress) callbacks.on_progress(report, reader.bytes_read());
  };
  while (reader.next(rec)) {
    ++report.rows;
    if (!rec.error.empty()) {
      reject(rec.line, rec.error);
      continue;
    }
    if (rec.fields.size() != width) {
      reject(rec.line, "expected " + std::to_string(width) + " fields, got " + std::to_string(rec.fields.size()));
      continue;
    }
    if (!std::all_of(rec.fields.begin(), rec.fields.end(), valid_utf8)) {
      reject(rec.line, "not valid UTF-8");
      continue;
    }
    try {
      // a file written by `tradesphere export`: its formula guard comes off (domain/csv_writer.hpp)
      for (auto& f : rec.fields) {
        if (const auto bare = domain::csv_unguard(f); bare.size() != f.size()) f = std::string(bare);
      }
      std::vector<std::string> warnings;
      auto row = parse_row(rec.fields, cols, extra, options.strict, warnings);
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
  return report;
}

}  // namespace tradesphere::services
