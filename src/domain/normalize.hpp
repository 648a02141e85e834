// Text normalizers shared by validation, matching (duplicates, chat sync) and
// logging. Pure functions: no database, no I/O. All are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tradesphere::domain {

// Trims ASCII whitespace (space, \t, \n, \r, \f, \v) from both ends.
std::string trim(std::string_view text);

// ---- email ----------------------------------------------------------------

inline constexpr std::size_t kMaxEmailLength = 254;

// Pragmatic syntax check (not full RFC 5322): ASCII only, exactly one '@',
// local part 1..64 chars of [A-Za-z0-9.!#$%&'*+/=?^_`{|}~-] without leading,
// trailing or doubled dots; domain of >= 2 dot-separated labels (1..63 chars of
// [A-Za-z0-9-], no leading/trailing '-'), the last one alphabetic (>= 2 chars)
// or an IDNA "xn--" label; total length <= 254. No surrounding whitespace.
bool is_valid_email(std::string_view email);

// Trims the "Unicode spaces" SQL's normalize_email trims (ASCII whitespace,
// U+0085, U+00A0, U+1680, U+2000-U+200B, U+2028, U+2029, U+202F, U+205F,
// U+3000, U+FEFF), lower-cases (ASCII; the whole address, local part included),
// then returns std::nullopt unless the result passes is_valid_email.
// Contract with the SQL key (tests/pg/normalizer_parity_pgtest.cpp): whenever
// this returns an address, SQL normalize_email() of the same input returns the
// same text; SQL also keys addresses this rejects (non-ASCII, no RFC checks).
std::optional<std::string> normalize_email(std::string_view raw);

// Trims the Unicode spaces listed at normalize_email from both ends (UTF-8).
std::string trim_unicode_spaces(std::string_view text);

// ---- phone ----------------------------------------------------------------

// Parses with libphonenumber; numbers without a leading '+' are read in
// default_region (ISO 3166 alpha-2, case-insensitive). Returns E.164
// ("+14155552671") for numbers libphonenumber considers *valid* (not merely of
// possible length), std::nullopt otherwise (garbage, unknown region, > 64 chars).
std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_region = "US");

// ASCII digits of raw, in order: SQL phone_digits() (partial-number search).
std::string phone_digits(std::string_view raw);

// "US" -> "1", "de" -> "49". Throws ValidationError("region", ...) for a region
// libphonenumber does not know.
std::string calling_code_for_region(std::string_view region);
bool is_supported_region(std::string_view region);

// Cheap syntactic plausibility of a user-entered phone (before region-aware
// normalization): 5..20 digits, only digits, spaces and + - ( ) . / # * and
// extension markers (x, ext). Used to validate API input that is stored as typed.
bool is_plausible_phone(std::string_view raw);

// ---- names ----------------------------------------------------------------

// For comparison only (never stored as the display name): trims, collapses any
// Unicode whitespace run to one space, case-folds (ICU full case folding, so
// "ß" -> "ss"), strips accents and transliterates Latin letters to ASCII
// ("NFKD; [:Nonspacing Mark:] Remove; Latin-ASCII; NFC": "Łukasz Żółć" ->
// "lukasz zolc"). Returns "" for blank input. Non-Latin scripts keep their
// letters, but lose combining marks too ("Дмитрий" -> "дмитрии"), as ICU folding does.
// ASCII input takes an exact fast path (see normalize_name_with_icu).
std::string normalize_name(std::string_view raw);
// normalize_name through ICU always: the reference the ASCII fast path is tested against.
std::string normalize_name_with_icu(std::string_view raw);

// Tokens of normalize_name(raw), sorted: split on whitespace and punctuation,
// apostrophes removed inside a token ("O'Brien" -> "obrien"), hyphens split
// ("Mary-Jane" -> "jane", "mary"). Duplicates kept. Order-insensitive comparison:
// name_tokens("Smith, John") == name_tokens("john smith").
std::vector<std::string> name_tokens(std::string_view raw);

// The name matching key, exactly SQL normalize_name() (the reference; parity
// tested in tests/pg/normalizer_parity_pgtest.cpp): apostrophes (' ` U+00B4
// U+2018 U+2019 U+02BC) deleted, NFKD, lower-case (ICU root locale), combining
// marks of U+0300-U+036F, U+1AB0-U+1AFF, U+1DC0-U+1DFF, U+20D0-U+20FF and
// U+FE20-U+FE2F removed, NFC, then the 0002 rules (ß ae oe th ij, the
// translate() table, apostrophes, separators) and the distinct tokens sorted
// bytewise, joined by one space; std::nullopt when no token is left.
// Not the scoring normalizer: name_tokens() folds more (ICU Latin-ASCII).
std::optional<std::string> name_key(std::string_view raw);

// ---- tags -----------------------------------------------------------------

inline constexpr std::size_t kMaxTags = 50;
inline constexpr std::size_t kMaxTagLength = 64;

// Each tag: trimmed, inner whitespace runs collapsed to one space, ASCII
// lower-cased; must then be 1..64 chars of [a-z0-9 _:.-]. Result is de-duplicated
// keeping the order of first appearance and holds at most 50 tags.
// Throws one ValidationError listing every bad tag as "<field>/<index>" (index
// into the input), and "<field>" when there are more than 50 distinct tags.
std::vector<std::string> normalize_tags(const std::vector<std::string>& raw, std::string_view field = "tags");

// ---- timestamps -----------------------------------------------------------

// Accepts "YYYY-MM-DDTHH:MM[:SS[.fraction]]<zone>" where the separator may be
// 'T', 't' or ' ' and zone is Z, z, +HH, +HHMM, +HH:MM or +HH:MM:SS (or '-'); a zone is
// required (a zoneless time is ambiguous). With allow_date_only, "YYYY-MM-DD"
// (midnight UTC) is accepted too. Calendar-checked (no Feb 30, hour <= 23,
// second <= 59). PostgreSQL's text output ("2024-01-02 03:04:05.123456+00") passes.
bool is_iso8601_timestamp(std::string_view text, bool allow_date_only = false);

// Microseconds since the Unix epoch (UTC) of a text accepted by
// is_iso8601_timestamp; std::nullopt otherwise. Fractions beyond 6 digits are truncated.
std::optional<std::int64_t> parse_iso8601_micros(std::string_view text, bool allow_date_only = false);

// ---- masking for logs -----------------------------------------------------

// "john.doe@example.com" -> "j***@example.com"; "***" when there is no '@'.
std::string mask_email(std::string_view email);

// "+14155552671" -> "+1*******71": leading '+' kept if present, first and last
// two digits kept, always seven '*' (the length is not revealed); "***" when the
// input has fewer than 6 digits.
std::string mask_phone(std::string_view phone);

// True for canonical textual UUIDs (8-4-4-4-12 hex digits, either case).
bool is_uuid(std::string_view text);

// 0-15 for a hexadecimal digit (either case), -1 for any other byte.
int hex_digit_value(char c);

// A-Z -> a-z; every other byte unchanged (UTF-8 stays valid).
std::string to_lower_ascii(std::string_view text);

}  // namespace tradesphere::domain
