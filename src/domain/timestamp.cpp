#include "domain/timestamp.hpp"

#include <cstdio>
#include <cstring>

#include "domain/normalize.hpp"

namespace tradesphere::domain {
namespace {

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days: the inverse of days_from_civil (normalize.cpp).
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// An instant's calendar fields in UTC.
struct Fields {
  Civil date;
  int hour, minute, second;
  long micros;
};

Fields fields_of(std::int64_t micros_since_epoch) {
  constexpr std::int64_t kMicrosPerDay = 86'400LL * 1'000'000;
  const std::int64_t days = floor_div(micros_since_epoch, kMicrosPerDay);
  std::int64_t rest = micros_since_epoch - days * kMicrosPerDay;  // 0 .. kMicrosPerDay-1
  Fields f{civil_from_days(days), 0, 0, 0, 0};
  f.micros = static_cast<long>(rest % 1'000'000);
  rest /= 1'000'000;
  f.second = static_cast<int>(rest % 60);
  rest /= 60;
  f.minute = static_cast<int>(rest % 60);
  f.hour = static_cast<int>(rest / 60);
  return f;
}

// Writes YYYY-MM-DDTHH:MM:SS.ffffffZ (kRfc3339UtcLength characters) for a year in
// 0..9999. Written digit by digit: snprintf was ~7 % of the server's CPU on a list of
// 1000 customers (five timestamps each).
void put_fields(const Fields& f, char* out) {
  auto put = [out](std::size_t at, long long value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, f.date.year, 4);
  out[4] = '-';
  put(5, f.date.month, 2);
  out[7] = '-';
  put(8, f.date.day, 2);
  out[10] = 'T';
  put(11, f.hour, 2);
  out[13] = ':';
  put(14, f.minute, 2);
  out[16] = ':';
  put(17, f.second, 2);
  out[19] = '.';
  put(20, f.micros, 6);
  out[26] = 'Z';
}

bool digits(std::string_view t, std::size_t at, std::size_t n, int& value) {
  value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    const char c = t[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

// "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" (timestamptz_out with TimeZone UTC, DateStyle ISO)
// -> RFC 3339 by moving characters. Days past the 28th go the general way (month
// lengths), as does everything else.
bool write_postgres_utc(std::string_view t, char* out) {
  if (t.size() < 22 || t.size() > 29 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':') {
    return false;
  }
  if (t.substr(t.size() - 3) != "+00") return false;
  int year, month, day, hour, minute, second;
  if (!digits(t, 0, 4, year) || !digits(t, 5, 2, month) || !digits(t, 8, 2, day) || !digits(t, 11, 2, hour) ||
      !digits(t, 14, 2, minute) || !digits(t, 17, 2, second)) {
    return false;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 28 || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  const std::size_t zone = t.size() - 3;
  std::size_t fraction_digits = 0;
  if (zone > 19) {
    if (t[19] != '.') return false;
    fraction_digits = zone - 20;
    if (fraction_digits < 1 || fraction_digits > 6) return false;
    int ignored;
    if (!digits(t, 20, fraction_digits, ignored)) return false;
  }
  std::memcpy(out, t.data(), 19);
  out[10] = 'T';
  out[19] = '.';
  std::memcpy(out + 20, t.data() + 20, fraction_digits);
  std::memset(out + 20 + fraction_digits, '0', 6 - fraction_digits);
  out[26] = 'Z';
  return true;
}

// A year outside 0001..9999 after the shift to UTC would not be RFC 3339.
constexpr std::int64_t kFirst = -62'135'596'800LL * 1'000'000;   // 0001-01-01T00:00:00Z
constexpr std::int64_t kEnd = 253'402'300'800LL * 1'000'000;     // 10000-01-01T00:00:00Z

}  // namespace

std::string format_rfc3339_utc(std::int64_t micros_since_epoch) {
  const Fields f = fields_of(micros_since_epoch);
  // Years outside 0..9999 never reach here from to_rfc3339_utc; others keep
  // snprintf's "%04lld".
  if (f.date.year < 0 || f.date.year > 9999) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%06ldZ", static_cast<long long>(f.date.year),
                  f.date.month, f.date.day, f.hour, f.minute, f.second, f.micros);
    return buf;
  }
  std::string out(kRfc3339UtcLength, '0');
  put_fields(f, out.data());
  return out;
}

bool write_rfc3339_utc(std::string_view timestamp, char* out) noexcept {
  if (write_postgres_utc(timestamp, out)) return true;
  const auto micros = parse_iso8601_micros(timestamp);
  if (!micros || *micros < kFirst || *micros >= kEnd) return false;
  put_fields(fields_of(*micros), out);
  return true;
}

std::optional<std::string> to_rfc3339_utc(std::string_view timestamp) {
  std::string out(kRfc3339UtcLength, '0');
  if (!write_rfc3339_utc(timestamp, out.data())) return std::nullopt;
  return out;
}

std::string rfc3339_or_same(std::string_view timestamp) {
  auto out = to_rfc3339_utc(timestamp);
  return out ? std::move(*out) : std::string(timestamp);
}

}  // namespace tradesphere::domain
