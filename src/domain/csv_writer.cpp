#include "domain/csv_writer.hpp"

namespace tradesphere::domain {

bool csv_formula_like(std::string_view cell) noexcept {
  if (cell.empty()) return false;
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
