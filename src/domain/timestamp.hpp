// Timestamps in JSON: RFC 3339 in UTC with microseconds, one format everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tradesphere::domain {

// Microseconds since the Unix epoch -> "2026-12-06T16:54:57.651908Z": always
// six fraction digits and 'Z', so the text sorts like the instant (years 0001..9999).
std::string format_rfc3339_utc(std::int64_t micros_since_epoch);

// Any timestamp text accepted by parse_iso8601_micros (PostgreSQL's timestamptz
// output "2026-12-06 16:54:57.651908+00", jsonb's "…T…+00:00", RFC 3339 itself)
// -> the same instant as format_rfc3339_utc writes it. std::nullopt when the text
// is not such a timestamp (PostgreSQL's "infinity", years past 9999, BC dates).
std::optional<std::string> to_rfc3339_utc(std::string_view timestamp);

// to_rfc3339_utc without allocating: writes its kRfc3339UtcLength characters to
// `out` and returns true, or returns false (nothing written) where to_rfc3339_utc
// returns std::nullopt. PostgreSQL's own output in UTC ("2026-12-06 16:54:57.65+00")
// takes a fast path that never leaves the text; anything else is parsed.
inline constexpr std::size_t kRfc3339UtcLength = 27;
bool write_rfc3339_utc(std::string_view timestamp, char* out) noexcept;

// The reading side of the database: to_rfc3339_utc, or the text unchanged when it
// is not a finite timestamp (so a value is never lost).
std::string rfc3339_or_same(std::string_view timestamp);

}  // namespace tradesphere::domain
