#include "domain/csv_writer.hpp"

namespace tradesphere::domain {

namespace {
// "+1 415 555 0100", "+44 (0)20 7946 0958", "-12.5": a sign, then only digits
// and the punctuation of numbers and phones. A spreadsheet may read it as a
// number, but it cannot call a function or reach another cell, and guarding it
// would put an apostrophe before every E.164 phone (and break re-import).
bool signed_number_or_phone(std::string_view cell) noexcept {
  if (cell.size() < 2 || (cell.front() != '+' && cell.front() != '-')) return false;
  bool digit = false;
  for (const char c : cell.substr(1)) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != ' ' && c != '(' && c != ')' && c != '.' && c != '-' && c != '/') {
      return false;
    }
  }
  return digit;
}
}  // namespace

bool csv_formula_like(std::string_view cell) noexcept {
  if (cell.empty() || signed_number_or_phone(cell)) return false;
  switch (cell.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

std::string_view csv_unguard(std::string_view cell) noexcept {
  if (cell.size() >= 2 && cell.front() == '\'' && csv_formula_like(cell.substr(1))) return cell.substr(1);
  return cell;
}

void append_csv_field(std::string& out, std::string_view value) {
  const bool guard = csv_formula_like(value);
  const bool quote = value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    if (guard) out += '\'';
    out.append(value);
    return;
  }
  out += '"';
  if (guard) out += '\'';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_csv_record(std::string& out, const std::vector<std::optional<std::string>>& fields) {
  bool first = true;
  for (const auto& f : fields) {
    if (!first) out += ',';
    first = false;
    if (f) append_csv_field(out, *f);
  }
  out += "\r\n";
}

}  // namespace tradesphere::domain
