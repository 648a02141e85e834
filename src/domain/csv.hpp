// RFC 4180 CSV reading (pure; used by `tradesphere import`).
//
// Hand-written on purpose: Debian 12's only C/C++ CSV library package is libcsv
// (a callback-style C API, not among our build dependencies), and RFC 4180 is a
// small grammar; a 100-line state machine with tests is cheaper than a new
// system dependency in CMakeLists and the install scripts.
//
// Accepts CRLF or LF record ends, quoted fields with "" escapes and embedded
// separators/line breaks, a leading UTF-8 BOM, and a missing final line break.
// A quote inside an unquoted field, text after a closing quote, or an
// unterminated quote makes that record an error (the reader resynchronizes at
// the next line break outside quotes).
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace tradesphere::domain {

struct CsvRecord {
  std::size_t line = 0;             // 1-based line where the record starts
  std::vector<std::string> fields;
  std::string error;                // non-empty: malformed record, fields incomplete
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, char separator = ',') : in_(in), sep_(separator) {}
  // False at end of input. Blank lines are skipped.
  bool next(CsvRecord& record);
  std::size_t bytes_read() const { return bytes_; }

 private:
  int get();
  int peek();
  std::istream& in_;
  char sep_;
  std::size_t line_ = 1;
  std::size_t bytes_ = 0;
  bool started_ = false;
};

}  // namespace tradesphere::domain
