// The customer export's CSV layout (pure): header, one record per customer, the
// download's file name. Written with csv_writer.hpp (RFC 4180, CRLF, formula guard).
//
// Columns: id, external_id, name, email, phone, address, lifecycle_stage, tags
// (joined with ';' — tags cannot contain ';', and `tradesphere import` splits on
// it), notes, source, created_at, updated_at (RFC 3339 UTC, as in the JSON API),
// conversation_count, message_count, last_contact_at (empty when never contacted).
#pragma once

#include <array>
#include <chrono>
#include <string>

#include "domain/customer.hpp"

namespace tradesphere::domain {

inline constexpr std::array<const char*, 15> kCustomerCsvColumns = {
    "id",     "external_id", "name",       "email",      "phone",
    "address", "lifecycle_stage", "tags",   "notes",      "source",
    "created_at", "updated_at", "conversation_count", "message_count", "last_contact_at"};

// The header record (CRLF-terminated).
void append_customer_csv_header(std::string& out);
// One customer's record (CRLF-terminated), columns as kCustomerCsvColumns.
void append_customer_csv_record(std::string& out, const CustomerWithMetrics& customer);

// "customers-2026-12-07.csv": the UTC date of `now`.
std::string customer_export_file_name(std::chrono::system_clock::time_point now);

}  // namespace tradesphere::domain
