#include "domain/csv.hpp"

namespace tradesphere::domain {

int CsvReader::get() {
  int c = in_.get();
  if (c != std::char_traits<char>::eof()) ++bytes_;
  return c;
}

int CsvReader::peek() { return in_.peek(); }

bool CsvReader::next(CsvRecord& rec) {
  constexpr int kEof = std::char_traits<char>::eof();
  if (!started_) {
    started_ = true;
    if (peek() == 0xEF) {  // UTF-8 BOM
      char bom[3];
      in_.read(bom, 3);
      bytes_ += 3;
      if (!(static_cast<unsigned char>(bom[1]) == 0xBB && static_cast<unsigned char>(bom[2]) == 0xBF)) {
        in_.seekg(0);
        bytes_ = 0;
      }
    }
  }
  for (;;) {
    rec = CsvRecord{};
    rec.line = line_;
    if (peek() == kEof) return false;
    // blank line
    if (peek() == '\n' || peek() == '\r') {
      int c = get();
      if (c == '\r' && peek() == '\n') get();
      ++line_;
      continue;
    }
    std::string field;
    bool quoted = false, after_quote = false, in_quotes = false;
    for (;;) {
      int c = get();
      if (in_quotes) {
        if (c == kEof) {
          rec.error = "unterminated quoted field";
          rec.fields.push_back(field);
          return true;
        }
        if (c == '"') {
          if (peek() == '"') {
            get();
            field += '"';
          } else {
            in_quotes = false;
            after_quote = true;
          }
        } else {
          if (c == '\n') ++line_;
          field += static_cast<char>(c);
        }
        continue;
      }
      if (c == kEof || c == '\n' || c == '\r') {
        if (c == '\r' && peek() == '\n') get();
        if (c != kEof) ++line_;
        rec.fields.push_back(field);
        return true;
      }
      if (c == sep_) {
        rec.fields.push_back(field);
        field.clear();
        quoted = after_quote = false;
        continue;
      }
      if (after_quote) {
        if (rec.error.empty()) rec.error = "text after a closing quote in field " + std::to_string(rec.fields.size() + 1);
        continue;
      }
      if (c == '"') {
        if (field.empty() && !quoted) {
          quoted = in_quotes = true;
          continue;
        }
        if (rec.error.empty()) rec.error = "quote inside an unquoted field " + std::to_string(rec.fields.size() + 1);
      }
      field += static_cast<char>(c);
    }
  }
}

}  // namespace tradesphere::domain
