// RFC 3339 UTC: the one format timestamps have in JSON (domain/timestamp.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "domain/normalize.hpp"
#include "domain/timestamp.hpp"

namespace {

using tradesphere::domain::format_rfc3339_utc;
using tradesphere::domain::parse_iso8601_micros;
using tradesphere::domain::rfc3339_or_same;
using tradesphere::domain::to_rfc3339_utc;

TEST(Rfc3339, FormatsMicrosecondsSinceTheEpochInUtcWithSixFractionDigits) {
  EXPECT_EQ(format_rfc3339_utc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_utc(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(format_rfc3339_utc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339_utc(1'796'576'097'651'908LL), "2026-12-06T16:54:57.651908Z");
  EXPECT_EQ(format_rfc3339_utc(951'782'400'000'000LL), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_utc(-62'135'596'800'000'000LL), "0001-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_utc(253'402'300'799'999'999LL), "9999-12-31T23:59:59.999999Z");
}

// Round trip over a spread of instants in 0001..9999: what is written parses back
// to the same microsecond (the formatter writes its digits by hand).
TEST(Rfc3339, EveryFormattedInstantParsesBackToItself) {
  const std::int64_t first = -62'135'596'800'000'000LL, last = 253'402'300'799'999'999LL;
  std::int64_t v = first;
  for (int i = 0; i < 20000; ++i) {
    const auto text = format_rfc3339_utc(v);
    ASSERT_EQ(text.size(), 27u) << text;
    ASSERT_EQ(parse_iso8601_micros(text), v) << text;
    v += (last - first) / 20011 + std::int64_t{999'983} * i;  // uneven steps: every field varies
    if (v > last) break;
  }
}

TEST(Rfc3339, ConvertsPostgresTimestamptzText) {
  EXPECT_EQ(to_rfc3339_utc("2026-12-06 16:54:57.651908+00"), "2026-12-06T16:54:57.651908Z");
  // PostgreSQL drops trailing fraction zeros and the whole fraction when it is zero.
  EXPECT_EQ(to_rfc3339_utc("2026-12-06 16:54:57.5+00"), "2026-12-06T16:54:57.500000Z");
  EXPECT_EQ(to_rfc3339_utc("2026-12-06 16:54:57+00"), "2026-12-06T16:54:57.000000Z");
  // A session in another time zone: shifted to UTC, across a day and a year boundary.
  EXPECT_EQ(to_rfc3339_utc("2027-01-01 01:30:00+02"), "2026-12-31T23:30:00.000000Z");
  EXPECT_EQ(to_rfc3339_utc("2026-12-31 20:00:00-05:30"), "2027-01-01T01:30:00.000000Z");
  // Local mean time offsets carry seconds.
  EXPECT_EQ(to_rfc3339_utc("1890-01-01 00:00:00+00:53:28"), "1889-12-31T23:06:32.000000Z");
  // jsonb's rendering of a timestamptz.
  EXPECT_EQ(to_rfc3339_utc("2026-12-06T16:54:57.651908+00:00"), "2026-12-06T16:54:57.651908Z");
  // RFC 3339 itself is a fixed point.
  EXPECT_EQ(to_rfc3339_utc("2026-12-06T16:54:57.651908Z"), "2026-12-06T16:54:57.651908Z");
}

TEST(Rfc3339, RoundTripsThroughTheParserAndSortsLikeTheInstant) {
  for (std::int64_t micros : {0LL, 1LL, -1LL, 1'796'576'097'651'908LL, 1'000'000LL * 86'400 * 365 * 30 + 7}) {
    auto text = format_rfc3339_utc(micros);
    EXPECT_EQ(parse_iso8601_micros(text), micros) << text;
  }
  // Fixed width: text order is time order, unlike PostgreSQL's variable fraction.
  EXPECT_LT(*to_rfc3339_utc("2026-01-01 00:00:00+00"), *to_rfc3339_utc("2026-01-01 00:00:00.1+00"));
  EXPECT_LT(*to_rfc3339_utc("2026-01-01 00:00:00.45+00"), *to_rfc3339_utc("2026-01-01 00:00:00.5+00"));
}

TEST(Rfc3339, LeavesWhatIsNotAFiniteTimestampAlone) {
  EXPECT_EQ(to_rfc3339_utc("infinity"), std::nullopt);
  EXPECT_EQ(to_rfc3339_utc("-infinity"), std::nullopt);
  EXPECT_EQ(to_rfc3339_utc("0044-03-15 12:00:00+00 BC"), std::nullopt);
  EXPECT_EQ(to_rfc3339_utc("2026-12-06"), std::nullopt);  // a date is not an instant
  EXPECT_EQ(to_rfc3339_utc("2026-12-06 16:54:57"), std::nullopt);  // no zone
  EXPECT_EQ(to_rfc3339_utc("0001-01-01 00:30:00+01"), std::nullopt);  // year 0 in UTC
  EXPECT_EQ(rfc3339_or_same("infinity"), "infinity");
  EXPECT_EQ(rfc3339_or_same("2026-12-06 16:54:57+00"), "2026-12-06T16:54:57.000000Z");
}


// write_rfc3339_utc (the list page's allocation-free converter) writes what
// to_rfc3339_utc returns, on PostgreSQL's output (its fast path: 0..6 fraction digits,
// days up to the 28th) and on everything else (the general path).
TEST(Rfc3339, WriteIntoABufferAgreesWithToRfc3339Utc) {
  using tradesphere::domain::kRfc3339UtcLength;
  using tradesphere::domain::write_rfc3339_utc;
  auto written = [](std::string_view text) -> std::optional<std::string> {
    char buf[kRfc3339UtcLength];
    if (!write_rfc3339_utc(text, buf)) return std::nullopt;
    return std::string(buf, kRfc3339UtcLength);
  };
  // PostgreSQL's timestamptz_out in UTC, from instants spread over 0001..9999
  const std::int64_t first = -62'135'596'800'000'000LL, last = 253'402'300'799'999'999LL;
  std::int64_t v = first;
  for (int i = 0; i < 20000 && v <= last; ++i) {
    const std::string rfc = format_rfc3339_utc(v);
    std::string pg = rfc.substr(0, 10) + " " + rfc.substr(11, 8);
    std::string fraction = rfc.substr(20, 6);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) pg += "." + fraction;
    pg += "+00";
    ASSERT_EQ(written(pg), rfc) << pg;
    ASSERT_EQ(written(pg), to_rfc3339_utc(pg)) << pg;
    v += (last - first) / 20011 + std::int64_t{999'983} * i;
  }
  for (const char* text : {"2026-12-06 16:54:57.651908+00", "2026-12-06 16:54:57+00", "2026-12-06 16:54:57.1+00",
                           "2024-02-29 23:59:59.999999+00", "2023-02-29 10:00:00+00", "2026-12-31 23:00:00+00",
                           "2026-12-06 16:54:57.651908+01", "2026-12-06 16:54:57-03:30", "2026-12-06T16:54:57Z",
                           "2026-12-06 16:54:57.1234567+00", "2026-12-06 24:00:00+00", "2026-13-06 10:00:00+00",
                           "2026-00-06 10:00:00+00", "2026-12-00 10:00:00+00", "0000-12-06 10:00:00+00",
                           "0044-03-15 12:00:00+00 BC", "10000-01-01 00:00:00+00", "infinity", "-infinity", "",
                           "2026-12-06 16:54:57.+00", "2026-12-06 16:54:57.65a+00", "2026-12-06 16:5x:57+00",
                           "2026-12-06 16:54:57+00:00", "9999-12-31 23:59:59.999999-01", "0001-01-01 00:00:00+01"}) {
    EXPECT_EQ(written(text), to_rfc3339_utc(text)) << text;
  }
}

}  // namespace
