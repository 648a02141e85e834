#include "domain/normalize.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <unordered_set>

#include "domain/errors.hpp"

namespace tradesphere::domain {

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }


std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_local_part_char(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '.': case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
    case '~': case '-':
      return true;
    default:
      return false;
  }
}

bool is_valid_domain_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// ---- libphonenumber ----

const i18n::phonenumbers::PhoneNumberUtil& phone_util() {
  return *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
}

const std::set<std::string>& supported_regions() {
  static const std::set<std::string> regions = [] {
    std::set<std::string> r;
    phone_util().GetSupportedRegions(&r);
    return r;
  }();
  return regions;
}

// The most digits a national number of the country with this calling code is
// written with (trunk prefix excluded): more digits that start with the code are
// the code typed without '+'. The same table as SQL normalize_phone (0030).
std::size_t max_national_digits(const std::string& calling_code) {
  if (calling_code == "49") return 15;  // German numbers are up to 15 digits long: never stripped
  if (calling_code == "43") return 13;
  if (calling_code == "39" || calling_code == "49" || calling_code == "55" || calling_code == "86") return 11;
  return 10;
}

// ---- ICU ----

constexpr const char* kNameTransform = "NFKD; [:Nonspacing Mark:] Remove; Latin-ASCII; NFC";

// ICU documents Transliterator instances as not safe for concurrent use of one
// object, so every thread gets its own (created once per thread).
icu::Transliterator& name_transliterator() {
  thread_local std::unique_ptr<icu::Transliterator> instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(
        icu::Transliterator::createInstance(icu::UnicodeString(kNameTransform), UTRANS_FORWARD, status));
    if (U_FAILURE(status) || !t) {
      throw ServiceError(std::string("ICU transliterator unavailable: ") + u_errorName(status));
    }
    return t;
  }();
  return *instance;
}

bool is_token_char(UChar32 c) {
  return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK)) != 0;
}

bool is_apostrophe(UChar32 c) {
  return c == 0x27 || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x60 || c == 0xB4;
}

// ---- calendar ----

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool at_end() const { return i_ == s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool accept(char c) {
    if (peek() != c || at_end()) return false;
    ++i_;
    return true;
  }
  bool fixed_digits(int n, int& out) {
    if (s_.size() - i_ < static_cast<std::size_t>(n)) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      const char c = s_[i_ + static_cast<std::size_t>(k)];
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    i_ += static_cast<std::size_t>(n);
    out = v;
    return true;
  }
  // Fraction digits after '.', returned as microseconds (truncated).
  bool fraction(std::int64_t& micros) {
    std::size_t n = 0;
    std::int64_t v = 0;
    while (!at_end() && is_digit(peek())) {
      if (n < 6) v = v * 10 + (peek() - '0');
      ++n;
      ++i_;
    }
    if (n == 0 || n > 12) return false;
    for (std::size_t k = n; k < 6; ++k) v *= 10;
    micros = v;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

std::string trim(std::string_view text) {
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && is_ascii_space(text[b])) ++b;
  while (e > b && is_ascii_space(text[e - 1])) --e;
  return std::string(text.substr(b, e - b));
}

// ---- email ----------------------------------------------------------------

bool is_valid_email(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmailLength) return false;
  const auto at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) return false;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  if (!std::all_of(local.begin(), local.end(), is_local_part_char)) return false;

  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    labels.push_back(domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return false;
  if (!std::all_of(labels.begin(), labels.end(), is_valid_domain_label)) return false;
  const std::string_view tld = labels.back();
  const bool idna = tld.size() > 4 && to_lower_ascii(tld.substr(0, 4)) == "xn--";
  if (!idna && (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_alpha))) return false;
  return true;
}

namespace {
// The "Unicode spaces" of docs/database.md (SQL normalize_email's trim set).
bool is_sql_unicode_space(UChar32 c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}
}  // namespace

std::string trim_unicode_spaces(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t b = 0;
  while (b < length) {
    int32_t next = b;
    UChar32 c = 0;
    U8_NEXT(s, next, length, c);
    if (!is_sql_unicode_space(c)) break;
    b = next;
  }
  int32_t e = length;
  while (e > b) {
    int32_t prev = e;
    UChar32 c = 0;
    U8_PREV(s, b, prev, c);
    if (!is_sql_unicode_space(c)) break;
    e = prev;
  }
  return std::string(text.substr(static_cast<std::size_t>(b), static_cast<std::size_t>(e - b)));
}

std::optional<std::string> normalize_email(std::string_view raw) {
  std::string email = to_lower_ascii(trim_unicode_spaces(raw));
  if (!is_valid_email(email)) return std::nullopt;
  return email;
}

// ---- phone ----------------------------------------------------------------

std::optional<std::string> normalize_phone(std::string_view raw, std::string_view default_region) {
  const std::string text = trim(raw);
  if (text.empty() || text.size() > 64) return std::nullopt;
  const auto& util = phone_util();
  std::string region = to_upper_ascii(default_region);
  if (!supported_regions().count(region)) region = "ZZ";  // only "+..." numbers can then parse
  i18n::phonenumbers::PhoneNumber number;
  if (util.ParseAndKeepRawInput(text, region, &number) != i18n::phonenumbers::PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::nullopt;
  }
  if (!util.IsValidNumber(number)) return std::nullopt;
  if (number.country_code_source() == i18n::phonenumbers::PhoneNumber::FROM_NUMBER_WITHOUT_PLUS_SIGN) {
    // The company's own calling code typed without '+' ("44 20 7946 0958" in a
    // GB company). SQL normalize_phone, which has no numbering plans, strips the
    // code only when the digits are too many for a national number; where they
    // could be either, it reads a national number. Refuse that case here, so the
    // two never produce different keys (normalizer parity test).
    std::string national;
    util.GetNationalSignificantNumber(number, &national);
    const std::string code = std::to_string(number.country_code());
    if (code.size() + national.size() <= max_national_digits(code)) return std::nullopt;
  }
  std::string out;
  util.Format(number, i18n::phonenumbers::PhoneNumberUtil::E164, &out);
  return out;
}

std::string phone_digits(std::string_view raw) {
  std::string out;
  for (const char c : raw) {
    if (is_digit(c)) out.push_back(c);
  }
  return out;
}

bool is_supported_region(std::string_view region) {
  return supported_regions().count(to_upper_ascii(region)) > 0;
}

std::string calling_code_for_region(std::string_view region) {
  const std::string upper = to_upper_ascii(region);
  if (!supported_regions().count(upper)) {
    throw ValidationError("region", "unknown region code '" + std::string(region) + "'");
  }
  return std::to_string(phone_util().GetCountryCodeForRegion(upper));
}

bool is_plausible_phone(std::string_view raw) {
  const std::string text = trim(raw);
  if (text.empty() || text.size() > 40) return false;
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      ++digits;
      continue;
    }
    switch (c) {
      case ' ': case '-': case '(': case ')': case '.': case '/': case '#': case '*':
        continue;
      case '+':
        if (i != 0) return false;
        continue;
      case 'x': case 'X': case 'e': case 'E': case 't': case 'T':
        if (digits == 0) return false;  // extension markers only after the number
        continue;
      default:
        return false;
    }
  }
  return digits >= 5 && digits <= 20;
}

// ---- names ----------------------------------------------------------------

namespace {
// For ASCII input the ICU steps reduce to this: NFKD, mark removal, Latin-ASCII
// and NFC leave ASCII as it is, full case folding maps A-Z to a-z, and the
// Unicode white space among ASCII is TAB..CR and the space. The transliterator
// costs microseconds per call, ~40 % of scoring one customer's candidates
// (perf, 1M customers), and nearly every name is ASCII. Exhaustively checked
// against normalize_name_with_icu in tests/unit.
std::optional<std::string> normalize_ascii_name(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  bool pending_space = false;
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return std::nullopt;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
  }
  return out;
}
}  // namespace

std::string normalize_name(std::string_view raw) {
  if (auto ascii = normalize_ascii_name(raw)) return std::move(*ascii);
  return normalize_name_with_icu(raw);
}

std::string normalize_name_with_icu(std::string_view raw) {
  icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(raw.data(), static_cast<int32_t>(raw.size())));
  text.foldCase(U_FOLD_CASE_DEFAULT);
  name_transliterator().transliterate(text);

  // Collapse whitespace runs (any Unicode white space) to one ASCII space and trim.
  icu::UnicodeString collapsed;
  bool pending_space = false;
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    const UChar32 c = text.char32At(i);
    if (u_isUWhiteSpace(c)) {
      pending_space = !collapsed.isEmpty();
      continue;
    }
    if (pending_space) collapsed.append(static_cast<UChar>(0x20));
    pending_space = false;
    collapsed.append(c);
  }
  std::string out;
  collapsed.toUTF8String(out);
  return out;
}

std::vector<std::string> name_tokens(std::string_view raw) {
  const std::string normalized = normalize_name(raw);
  const icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(normalized.data(), static_cast<int32_t>(normalized.size())));
  std::vector<std::string> tokens;
  icu::UnicodeString current;
  auto flush = [&] {
    if (!current.isEmpty()) {
      std::string t;
      current.toUTF8String(t);
      tokens.push_back(std::move(t));
      current.remove();
    }
  };
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    const UChar32 c = text.char32At(i);
    if (is_token_char(c)) {
      current.append(c);
    } else if (!is_apostrophe(c)) {
      flush();
    }
  }
  flush();
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

// ---- name key (the mirror of SQL normalize_name) ---------------------------

namespace {

bool is_key_apostrophe(UChar32 c) {
  return c == 0x27 || c == 0x60 || c == 0xB4 || c == 0x2018 || c == 0x2019 || c == 0x02BC;
}

// Combining marks removed after NFKD (the ranges of migration 0030).
bool is_removed_mark(UChar32 c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F);
}

// The separator class of 0002: every run becomes one space.
bool is_key_separator(UChar32 c) {
  return (c >= 0x01 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7F) || (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) || c == 0xFEFF;
}

// 0002's replace() chain and translate() table, one code point at a time
// (their outputs are ASCII letters, so the order of the steps does not matter).
const char* key_replacement(UChar32 c) {
  switch (c) {
    case 0xDF: return "ss";
    case 0xE6: return "ae";
    case 0x153: return "oe";
    case 0xFE: return "th";
    case 0x133: return "ij";
    default: return nullptr;
  }
}

UChar32 key_translate(UChar32 c) {
  static const std::vector<std::pair<UChar32, UChar32>> table = [] {
    const icu::UnicodeString from = icu::UnicodeString::fromUTF8(
        "àáâãäåçèéêëìíîïðñòóôõöøùúûüýÿāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĵķĸĺļľŀłńņňŉŋōŏőŕŗřśŝşšţťŧũūŭůűųŵŷźżžſ");
    const std::string to = "aaaaaaceeeeiiiidnoooooouuuuyyaaaccccddeeeeegggghhiiiiijkklllllnnnnnooorrrsssstttuuuuuuwyzzzs";
    std::vector<std::pair<UChar32, UChar32>> t;
    std::size_t k = 0;
    for (int32_t i = 0; i < from.length(); i = from.moveIndex32(i, 1)) t.emplace_back(from.char32At(i), to.at(k++));
    std::sort(t.begin(), t.end());
    return t;
  }();
  const auto it = std::lower_bound(table.begin(), table.end(), std::make_pair(c, UChar32{0}));
  return it != table.end() && it->first == c ? it->second : c;
}

}  // namespace

std::optional<std::string> name_key(std::string_view raw) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(status);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw ServiceError(std::string("ICU normalizer unavailable: ") + u_errorName(status));

  const icu::UnicodeString input =
      icu::UnicodeString::fromUTF8(icu::StringPiece(raw.data(), static_cast<int32_t>(raw.size())));
  icu::UnicodeString text;
  for (int32_t i = 0; i < input.length(); i = input.moveIndex32(i, 1)) {
    if (!is_key_apostrophe(input.char32At(i))) text.append(input.char32At(i));
  }
  text = nfkd->normalize(text, status);
  text.toLower(icu::Locale::getRoot());
  icu::UnicodeString unmarked;
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    if (!is_removed_mark(text.char32At(i))) unmarked.append(text.char32At(i));
  }
  text = nfc->normalize(unmarked, status);
  if (U_FAILURE(status)) throw ServiceError(std::string("ICU normalization failed: ") + u_errorName(status));

  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    const UChar32 c = text.char32At(i);
    if (is_key_apostrophe(c)) continue;
    if (const char* r = key_replacement(c)) {
      current += r;
    } else if (is_key_separator(c)) {
      flush();
    } else {
      icu::UnicodeString(key_translate(c)).toUTF8String(current);
    }
  }
  flush();
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  if (tokens.empty()) return std::nullopt;
  std::string out = tokens.front();
  for (std::size_t i = 1; i < tokens.size(); ++i) out += ' ' + tokens[i];
  return out;
}

// ---- tags -----------------------------------------------------------------

std::vector<std::string> normalize_tags(const std::vector<std::string>& raw, std::string_view field) {
  std::vector<FieldError> errors;
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  const std::string prefix = std::string(field) + "/";
  for (std::size_t i = 0; i < raw.size(); ++i) {
    // trim + collapse whitespace + lower-case
    std::string tag;
    bool pending_space = false;
    for (char c : raw[i]) {
      if (is_ascii_space(c)) {
        pending_space = !tag.empty();
        continue;
      }
      if (pending_space) tag.push_back(' ');
      pending_space = false;
      tag.push_back(to_lower_ascii(c));
    }
    if (tag.empty()) {
      errors.push_back({prefix + std::to_string(i), "must not be empty"});
      continue;
    }
    if (tag.size() > kMaxTagLength) {
      errors.push_back({prefix + std::to_string(i), "must be at most 64 characters"});
      continue;
    }
    const bool ok = std::all_of(tag.begin(), tag.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || is_digit(c) || c == ' ' || c == '_' || c == ':' || c == '-' || c == '.';
    });
    if (!ok) {
      errors.push_back({prefix + std::to_string(i), "may contain only a-z, 0-9, space, '_', ':', '-', '.'"});
      continue;
    }
    if (seen.insert(tag).second) out.push_back(std::move(tag));
  }
  if (out.size() > kMaxTags) {
    errors.push_back({std::string(field), "at most 50 distinct tags are allowed"});
  }
  if (!errors.empty()) throw ValidationError(std::move(errors));
  return out;
}

// ---- timestamps -----------------------------------------------------------

std::optional<std::int64_t> parse_iso8601_micros(std::string_view text, bool allow_date_only) {
  if (text.size() > 64) return std::nullopt;
  Scanner s(text);
  int year = 0;
  int month = 0;
  int day = 0;
  if (!s.fixed_digits(4, year) || !s.accept('-') || !s.fixed_digits(2, month) || !s.accept('-') ||
      !s.fixed_digits(2, day)) {
    return std::nullopt;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  constexpr std::int64_t kMicrosPerSecond = 1'000'000;
  if (s.at_end()) {
    if (!allow_date_only) return std::nullopt;
    return days * 86'400 * kMicrosPerSecond;
  }
  if (!(s.accept('T') || s.accept('t') || s.accept(' '))) return std::nullopt;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::int64_t micros = 0;
  if (!s.fixed_digits(2, hour) || !s.accept(':') || !s.fixed_digits(2, minute)) return std::nullopt;
  if (s.accept(':')) {
    if (!s.fixed_digits(2, second)) return std::nullopt;
    if (s.accept('.') && !s.fraction(micros)) return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;

  std::int64_t offset_seconds = 0;
  if (s.accept('Z') || s.accept('z')) {
    // UTC
  } else if (s.peek() == '+' || s.peek() == '-') {
    const int sign = s.peek() == '+' ? 1 : -1;
    s.accept(s.peek());
    int oh = 0;
    int om = 0;
    int os = 0;
    if (!s.fixed_digits(2, oh)) return std::nullopt;
    if (!s.at_end()) {
      const bool colon = s.accept(':');
      if (!s.fixed_digits(2, om)) return std::nullopt;
      // PostgreSQL writes local mean time offsets with seconds ("+00:53:28").
      if (colon && s.accept(':') && !s.fixed_digits(2, os)) return std::nullopt;
    }
    if (oh > 23 || om > 59 || os > 59) return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60 + os);
  } else {
    return std::nullopt;  // no zone
  }
  if (!s.at_end()) return std::nullopt;
  const std::int64_t seconds = days * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * kMicrosPerSecond + micros;
}

bool is_iso8601_timestamp(std::string_view text, bool allow_date_only) {
  return parse_iso8601_micros(text, allow_date_only).has_value();
}

// ---- masking --------------------------------------------------------------

std::string mask_email(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return "***";
  std::string out;
  if (at > 0) {
    // Keep the whole first UTF-8 character.
    std::size_t n = 1;
    while (n < at && (static_cast<unsigned char>(email[n]) & 0xC0) == 0x80) ++n;
    out.append(email.substr(0, n));
  }
  out += "***@";
  out.append(email.substr(at + 1));
  return out;
}

std::string mask_phone(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (is_digit(c)) digits.push_back(c);
  }
  if (digits.size() < 6) return "***";
  std::string out;
  if (trim(phone).starts_with('+')) out.push_back('+');
  out.push_back(digits.front());
  out += "*******";
  out.append(digits, digits.size() - 2, 2);
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!is_hex(text[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace tradesphere::domain
