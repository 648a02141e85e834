// RFC 4180 CSV writing (pure; used by GET /v1/customers/export and
// `tradesphere export`). The reading side is csv.hpp.
//
// A field is quoted when it contains a comma, a double quote, CR or LF; quotes
// inside are doubled. Records end with CRLF. NULL (std::nullopt) and the empty
// string are both written as an empty field.
//
// Formula injection (CWE-1236): a spreadsheet opening the file would evaluate a
// cell that starts with '=', '+', '-', '@', TAB or CR as a formula. Such a cell
// gets a leading apostrophe ("=1+1" -> "'=1+1"), which spreadsheets show as
// text; consumers that read the file programmatically strip one leading
// apostrophe before one of those characters. Not guarded: a sign followed only
// by digits and number/phone punctuation (space ( ) . - /), such as the phone
// "+1 415 555 0100" or "-12.5": it can call no function, and guarding it would
// change every E.164 phone (and its re-import).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tradesphere::domain {

// True when a spreadsheet would treat the cell as a formula (first character
// '=', '+', '-', '@', TAB or CR), except a signed number or phone.
bool csv_formula_like(std::string_view cell) noexcept;

// The reverse of the guard, for reading such a file back (`tradesphere import`):
// one leading apostrophe is dropped when what follows it is formula-like;
// anything else is returned as it is.
std::string_view csv_unguard(std::string_view cell) noexcept;

// Appends one field: the formula guard, then RFC 4180 quoting when needed.
void append_csv_field(std::string& out, std::string_view value);

// Appends one record: fields separated by ',', nullopt as an empty field, CRLF at the end.
void append_csv_record(std::string& out, const std::vector<std::optional<std::string>>& fields);

}  // namespace tradesphere::domain
