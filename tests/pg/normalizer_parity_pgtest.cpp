// Parity of the two normalizer implementations (issue 16): the SQL functions of
// the migrations (normalize_email, normalize_phone, normalize_name,
// phone_digits), which compute customer_matching_keys and so decide what a chat
// row matches, and their C++ counterparts in src/domain/normalize.hpp, which the
// API, import, enrichment and duplicate finding use. Every input of a corpus of
// hand-written edge cases and generated values goes through both; the SQL side
// runs in one round trip (JSON arrays in, JSON arrays out). Each differing input
// is printed.
//
// The contract (docs/database.md, "Normalizers and matching keys"):
// - name:   domain::name_key == normalize_name, NULL included (exact mirror).
// - digits: domain::phone_digits == phone_digits (exact mirror).
// - email:  whenever domain::normalize_email returns an address, normalize_email
//           returns the same text. SQL may key what C++ rejects: C++ validates
//           the syntax of what the API stores (ASCII, RFC-like local part and
//           domain labels, <= 254 chars), SQL keys any local@domain.tld a chat
//           row carries. C++ never keys what SQL does not.
// - phone:  whenever both domain::normalize_phone (libphonenumber, in the region
//           of the company's calling code) and normalize_phone return a key, it
//           is the same key. SQL may key what C++ rejects (SQL has no numbering
//           plans, so it cannot tell a valid number from one of a plausible
//           length: "+1 555 123 4567" is a SQL key, not a libphonenumber one).
//           C++ may key what SQL does not in the cases listed in
//           kSqlMayMissPhone below (each explained there); any other such case
//           fails the test.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <pqxx/pqxx>

#include "db/migrations.hpp"
#include "domain/contact_extraction.hpp"
#include "domain/normalize.hpp"
#include "support/pg_fixture.hpp"

namespace {

using nlohmann::json;
using tradesphere::domain::name_key;
using tradesphere::domain::normalize_email;
using tradesphere::domain::normalize_phone;
using tradesphere::domain::phone_digits;
using tradesphere::domain::region_for_calling_code;
using Key = std::optional<std::string>;

struct PhoneInput {
  std::string raw;
  std::string calling_code;  // the company's default_country_code ("" = none)
  std::string why;           // what the generator meant (printed with a difference)
};

// ---- printing ----------------------------------------------------------------

std::string show(const std::string& s) {
  std::ostringstream out;
  out << '\'';
  std::size_t shown = 0;
  for (std::size_t i = 0; i < s.size() && shown < 60; ++shown) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out << s[i++];
      continue;
    }
    // decode one UTF-8 sequence and print it as U+XXXX
    std::uint32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xF0) {
      cp = c & 0x07U;
      n = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0FU;
      n = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1FU;
      n = 2;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3FU);
    char buf[16];
    std::snprintf(buf, sizeof buf, "<U+%04X>", cp);
    out << buf;
    i += n;
  }
  out << '\'';
  if (s.size() > 60) out << " (" << s.size() << " bytes)";
  return out.str();
}

std::string show(const Key& k) { return k ? show(*k) : "NULL"; }

// ---- the corpus --------------------------------------------------------------

// Deterministic (same corpus on every run and platform).
class Rng {
 public:
  explicit Rng(std::uint32_t seed) : gen_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(gen_() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::mt19937 gen_;
};

const std::vector<std::string> kSpaces = {" ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff",
                                          "\u202f", "\u2028", "\u0085", "\u1680", "  "};

std::string random_case(Rng& r, const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c >= 'a' && c <= 'z' && r.chance(30)) c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::vector<std::string> email_corpus() {
  std::vector<std::string> v = {
      "", " ", "\t\n", "\u00a0", "\u3000\u2003", "john@example.com", " John@Example.COM ",
      "\u00a0john@example.com\t", "john@example.com\u00a0", "\u3000john@example.com\u3000", "\ufeffjohn@example.com",
      "\u200bjohn@example.com", "\u2028john@example.com\u2029", "\u0085john@example.com", "JOHN.DOE@EXAMPLE.COM",
      "first.last+tag@sub.example.org", "First.Last+Tag@Sub.Example.ORG", "a+b+c@example.com", "+@example.com",
      "john@example.com.", "john.@example.com", ".john@example.com", "jo..hn@example.com", "john@example..com",
      "john@@example.com", "john@ex@ample.com", "@example.com", "john@", "john", "n/a", "a@b", "a@b.c", "a@b.co",
      "a@b.c0m", "john @example.com", "john@ example.com", "john@exam ple.com", "\"john\"@example.com",
      "\"john doe\"@example.com", "\"j@d\"@example.com", "o'brien@example.ie", "x_y-z@my-domain.com",
      "a@-b.com", "a@b-.com", "a(b)@c.com", "<john@example.com>", "mailto:john@example.com", "john@[127.0.0.1]",
      "john@127.0.0.1", "user@xn--bcher-kva.example", "user@example.xn--p1ai", "user@EXAMPLE.XN--P1AI",
      "jörg@example.de", "JÖRG@EXAMPLE.DE", "élodie@exemple.fr", "ÉLODIE@Exemple.FR", "user@bücher.example",
      "user@BÜCHER.example", "пользователь@пример.рф", "ПОЛЬЗОВАТЕЛЬ@ПРИМЕР.РФ", "用户@例子.广告", "İnci@example.com",
      "STRASSE@example.com", "straße@example.com", "Σίσυφος@example.gr", "ＪＯＨＮ@ＥＸＡＭＰＬＥ.ＣＯＭ", "john@example.com;",
      "john@example.com,jane@example.com", "john@example.com jane@example.com", "john@example.c", "john@example.123",
      "john@localhost", "john@sub.sub.sub.example.co.uk", "JOHN@SUB.EXAMPLE.CO.UK", "a@b.cd\t", "\ta@b.cd",
      "a\u00a0b@c.de", "a@b\u00a0c.de", "\u2060a@b.cd", "a@b.cd\u180e", "tab\tinside@example.com",
      "#!$%&'*+/=?^_`{|}~-@example.com", "a@b.c-d", "john@example.museum", "JOHN@EXAMPLE.MUSEUM",
      "john.doe@example.com\r\n", "\r\njohn.doe@example.com", "\u00adjohn@example.com", "john\u0301@example.com",
  };
  // lengths around the limits: local part 64/65, whole address 254/255, and 5,000 characters
  v.push_back(std::string(64, 'a') + "@example.com");
  v.push_back(std::string(65, 'a') + "@example.com");
  std::string label(63, 'b');
  std::string domain = label + "." + label + "." + label + "." + std::string(57, 'c') + ".com";  // 249
  v.push_back("abcd@" + domain);
  v.push_back("abcde@" + domain);
  v.push_back(std::string(4990, 'x') + "@example.com");
  v.push_back(std::string(2500, 'X') + "@" + std::string(2490, 'Y') + ".com");
  v.push_back(std::string(5000, ' '));
  v.push_back(std::string(5000, '@'));

  Rng r(20261207);
  const std::vector<std::string> locals = {"john", "john.doe", "j.o.h.n", "john+news", "john_doe", "john-doe",
                                           "o'neil", "jörg", "élodie", "x", "a1b2", "john..doe", ".john", "john."};
  const std::vector<std::string> domains = {"example.com", "mail.example.co.uk", "b.co", "xn--bcher-kva.example",
                                            "bücher.example", "localhost", "example", "example.c", "ex_ample.com",
                                            "-example.com", "example.com.", "пример.рф"};
  for (int i = 0; i < 220; ++i) {
    std::string e = random_case(r, r.pick(locals)) + (r.chance(5) ? "@@" : "@") + random_case(r, r.pick(domains));
    if (r.chance(40)) e = r.pick(kSpaces) + e;
    if (r.chance(40)) e += r.pick(kSpaces);
    if (r.chance(5)) e.insert(r.below(e.size()), r.pick(kSpaces));
    v.push_back(e);
  }
  return v;
}

std::vector<std::string> name_corpus() {
  std::vector<std::string> v = {
      "", " ", "\u00a0", "\u3000", "\t\n\r", ",.-", "'", "John", "  John   SMITH ", "Smith, John", "john smith",
      "John John", "JOHN john", "José Núñez-García", "Jose\u0301 Nu\u0301n\u0303ez", "O'Brien", "O’Brien Séan",
      "O\u00b4Brien", "O`Brien", "O\u02bcBrien", "O\u2018Brien", "d'Arc", "Straße", "STRASSE", "ẞ", "Ærøskøbing",
      "Œuvre", "Þór", "ĳssel", "Łukasz Żółć", "Đorđe Ðoković", "İstanbul", "ıl", "Ħal", "Ŧest", "ŀl", "Col·lecció",
      "ŉ", "Ŋam", "ſoft", "Д. Иванов", "Дмитрий", "Фёдор", "ЁЛКА", "Οδυσσεύς", "ΣΙΣΥΦΟΣ", "Σίσυφος", "山田 太郎",
      "山田\u3000太郎", "がくせい", "김민준", "Nguyễn Văn An", "Trần Thị Bích", "ＪＯＨＮ ＳＭＩＴＨ", "ﬁona ﬂynn",
      "Mary-Jane Watson", "Dr. J. R. R. Tolkien", "Anna\u00a0\u3000Lee", "Anna\u2003Lee", "Anna\u200bLee",
      "Anna\ufeffLee", "Anna\u2060Lee", "Anna\u00adLee", "Anna\u180eLee", "John_Smith", "john@smith", "John (Jack) Smith",
      "Smith×Jones", "Smith÷Jones", "Smith·Jones", "Smith«Jones»", "Smith—Jones", "Smith–Jones", "Smith…",
      "John 3rd", "John III", "Ⅲ", "²", "John²", "😀 Smile", "John 😀", "Zoë", "ZOË", "zoe\u0308", "Ångström",
      "A\u030angstro\u0308m", "Çelik", "Şahin", "Ğ", "Åse", "Øystein", "Mañana", "Ñ", "Ūla", "Ǆ", "ǅemal", "ǲ",
      "Ǎ", "Ș", "Ț", "ș ț", "ŉa", "Ĳ", "µ", "ª", "º", "¼", "™", "℃", "№ 5", "Ａｂｃ", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
      "\u05e9\u05c1\u05dc\u05d5\u05b9\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947", "a\u0489b", "a\u1ab0b", "a\u20dd",
      "a\ufe20b", "ÀÁÂÃÄÅ", "àáâãäåçèéêëìíîïðñòóôõöøùúûüýÿ", "ĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ",
  };
  v.push_back(std::string(5000, 'a'));
  std::string many;
  for (int i = 0; i < 700; ++i) many += (i % 2 ? "Smith " : "John ");
  v.push_back(many);  // 5,600 characters, two distinct tokens
  std::string long_accented;
  for (int i = 0; i < 1250; ++i) long_accented += "Éé";
  v.push_back(long_accented);

  Rng r(77);
  const std::vector<std::string> tokens = {"john", "José", "NÚÑEZ", "garcía", "O'Brien", "Straße", "Łukasz",
                                           "Иванов", "Дмитрий", "山田", "김", "Nguyễn", "ＡＢＣ", "Zoë", "Mary-Jane",
                                           "d’Arc", "Ørsted", "İpek", "Σοφία", "smith", "SMITH", "J.", "de la", "3"};
  const std::vector<std::string> seps = {" ", "  ", ", ", "\u00a0", "\u3000", "\t", "-", "_", ".", "/", " & ",
                                         "\u2003", "\ufeff", "·"};
  for (int i = 0; i < 220; ++i) {
    std::string n = r.chance(20) ? r.pick(kSpaces) : "";
    const std::size_t count = 1 + r.below(4);
    for (std::size_t k = 0; k < count; ++k) {
      if (k) n += r.pick(seps);
      n += r.chance(30) ? random_case(r, r.pick(tokens)) : r.pick(tokens);
    }
    if (r.chance(20)) n += r.pick(kSpaces);
    v.push_back(n);
  }
  return v;
}

std::vector<PhoneInput> phone_corpus() {
  std::vector<PhoneInput> v = {
      {"", "1", "empty"}, {" ", "1", "space"}, {"\u00a0", "44", "NBSP"}, {"+", "1", "plus only"},
      {"12345", "1", "5 digits"}, {"123456", "44", "6 digits"}, {"1234567", "49", "7 digits"},
      {"hello", "1", "letters"}, {"n/a", "44", "letters"}, {"call me", "1", "letters"},
      {"(555) 123-4567", "1", "US fictional 555"}, {"(415) 555-2671", "1", "US national"},
      {"415.555.2671", "1", "US dots"}, {"1-415-555-2671", "1", "US with 1"}, {"+1 415 555 2671", "1", "US E.164"},
      {"+1 415 555 2671", "44", "US E.164 in a GB company"}, {"001 415 555 2671", "44", "00 prefix"},
      {"011 44 20 7946 0958", "1", "US IDD 011"}, {"011-49-30-901820", "1", "US IDD 011"},
      {"0011 44 20 7946 0958", "61", "AU IDD 0011"}, {"810 44 20 7946 0958", "7", "RU IDD 810"},
      {"8 10 44 20 7946 0958", "7", "RU IDD 8~10"}, {"010 44 20 7946 0958", "81", "JP IDD 010"},
      {"00 44 20 7946 0958", "7", "00 in RU"}, {"+1 415 555 2671 x123", "1", "extension x"},
      {"+1 415 555 2671 ext. 12", "1", "extension ext."}, {"415-555-2671 ext 12", "1", "extension ext"},
      {"415-555-2671 extension 12", "1", "extension word"}, {"415-555-2671#12", "1", "extension #"},
      {"415-555-2671;ext=12", "1", "extension ;ext="}, {"415-555-2671, 12", "1", "extension ,"},
      {"tel:+1-415-555-2671", "1", "RFC 3966"}, {"tel:+1-415-555-2671;ext=12", "1", "RFC 3966 ext"},
      {"1-800-FLOWERS", "1", "vanity"}, {"1-800-flowers", "1", "vanity lower"}, {"+1 800 FLOWERS", "44", "vanity intl"},
      {"800-FLOWERS", "1", "vanity without 1"}, {"1-800-GOT-JUNK", "1", "vanity"}, {"1-800-MY-APPLE", "1", "vanity"},
      {"020 7946 0958", "44", "GB national"}, {"020 7946 0958", "1", "GB national in a US company"},
      {"+44 (0)20 7946 0958", "1", "(0)"}, {"+44 (0) 20 7946 0958", "44", "(0)"}, {"0044 20 7946 0958", "44", "00"},
      {"44 20 7946 0958", "44", "own code without +"}, {"07700 900123", "44", "GB mobile"},
      {"030 901820", "49", "DE Berlin"}, {"+49 (0)30 901820", "49", "DE (0)"}, {"0151 23456789", "49", "DE mobile"},
      {"49 30 901820", "49", "own code without +"}, {"8 (916) 123-45-67", "7", "RU trunk 8"},
      {"8 916 123 45 67", "7", "RU trunk 8"}, {"89161234567", "7", "RU trunk 8"}, {"+7 916 123-45-67", "7", "RU E.164"},
      {"+7 (916) 123-45-67", "1", "RU E.164 in a US company"}, {"7 916 123 45 67", "7", "own code without +"},
      {"9161234567", "7", "RU without trunk"}, {"8 800 555 35 35", "7", "RU toll free"},
      {"8 (495) 123-45-67", "7", "RU Moscow"}, {"(02) 9876 5432", "61", "AU Sydney"}, {"0412 345 678", "61", "AU mobile"},
      {"+61 412 345 678", "61", "AU E.164"}, {"61 412 345 678", "61", "own code without +"},
      {"06 1234 5678", "39", "IT keeps 0"}, {"+39 06 1234 5678", "39", "IT E.164"}, {"0039 06 1234 5678", "1", "IT 00"},
      {"333 123 4567", "39", "IT mobile"}, {"01 23 45 67 89", "33", "FR"}, {"+33 1 23 45 67 89", "33", "FR E.164"},
      {"06 12 34 56 78", "33", "FR mobile"}, {"090-1234-5678", "81", "JP mobile"}, {"03-1234-5678", "81", "JP Tokyo"},
      {"(11) 98765-4321", "55", "BR mobile"}, {"98765 43210", "91", "IN mobile"}, {"098765 43210", "91", "IN trunk"},
      {"138 0013 8000", "86", "CN mobile"}, {"010 1234 5678", "86", "CN Beijing"}, {"5551234567", "", "no code"},
      {"+44 20 7946 0958", "", "no code, E.164"}, {"020 7946 0958", "", "no code, national"},
      {"+0123456789", "1", "+0"}, {"1234567890123456789", "1", "19 digits"}, {"+1234567890123456", "1", "16 digits"},
      {"++1 415 555 2671", "1", "double +"}, {"+1 +415 555 2671", "1", "second +"}, {"415 555 2671 +", "1", "trailing +"},
      {"(415)\u00a0555\u20112671", "1", "NBSP and non-breaking hyphen"}, {"\u00a0+1 415 555 2671\u3000", "1", "Unicode spaces"},
      {"＋１ ４１５ ５５５ ２６７１", "1", "full-width digits"}, {"٤١٥٥٥٥٢٦٧١", "1", "Arabic-Indic digits"},
      {"۴۱۵۵۵۵۲۶۷۱", "1", "Persian digits"}, {"+1 415 555 2671 / +1 415 555 2672", "1", "two numbers"},
      {"415 555 2671 or 415 555 2672", "1", "two numbers"}, {"Phone: 415 555 2671", "1", "label"},
      {"Tel. +44 20 7946 0958", "1", "label"}, {"1 415 555 2671", "1", "US 1 + national"},
      {"11 415 555 2671", "1", "11 digits after a 1"}, {"0 415 555 2671", "1", "US leading 0"},
      {"(0) 415 555 2671", "1", "(0) national"}, {"+1 (0) 415 555 2671", "1", "(0) US"},
  };
  v.push_back({std::string(5000, '5'), "1", "5,000 digits"});
  v.push_back({"+1 415 555 2671 " + std::string(4980, 'x'), "1", "5,000 characters"});
  v.push_back({std::string(4990, ' ') + "4155552671", "1", "5,000 characters"});

  // Generated: libphonenumber's example numbers of many regions in many formats.
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const auto& util = *PhoneNumberUtil::GetInstance();
  struct Region {
    const char* region;
    const char* code;
    const char* idd;  // international call prefix dialled in that region
  };
  const std::vector<Region> regions = {
      {"US", "1", "011"},  {"GB", "44", "00"}, {"DE", "49", "00"},  {"RU", "7", "810"}, {"AU", "61", "0011"},
      {"FR", "33", "00"},  {"IT", "39", "00"}, {"ES", "34", "00"},  {"NL", "31", "00"}, {"PL", "48", "00"},
      {"IN", "91", "00"},  {"BR", "55", "00"}, {"JP", "81", "010"}, {"CN", "86", "00"}, {"MX", "52", "00"},
      {"CH", "41", "00"},  {"AT", "43", "00"}, {"SE", "46", "00"},  {"IE", "353", "00"}, {"UA", "380", "00"},
      {"HU", "36", "00"},  {"NZ", "64", "00"}, {"ZA", "27", "00"},  {"TR", "90", "00"},
  };
  const std::vector<PhoneNumberUtil::PhoneNumberType> types = {
      PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE, PhoneNumberUtil::TOLL_FREE};
  for (const auto& reg : regions) {
    for (const auto type : types) {
      PhoneNumber number;
      if (!util.GetExampleNumberForType(reg.region, type, &number)) continue;
      std::string e164, intl, national, nsn;
      util.Format(number, PhoneNumberUtil::E164, &e164);
      util.Format(number, PhoneNumberUtil::INTERNATIONAL, &intl);
      util.Format(number, PhoneNumberUtil::NATIONAL, &national);
      util.GetNationalSignificantNumber(number, &nsn);
      const std::string cc = reg.code;
      const std::string other = cc == "1" ? "44" : "1";
      const std::string tag = std::string(reg.region) + " ";
      v.push_back({e164, cc, tag + "E.164"});
      v.push_back({e164, other, tag + "E.164 elsewhere"});
      v.push_back({intl, cc, tag + "international"});
      v.push_back({intl, other, tag + "international elsewhere"});
      v.push_back({national, cc, tag + "national"});
      v.push_back({national + " x123", cc, tag + "national x123"});
      v.push_back({national + " ext. 12", cc, tag + "national ext. 12"});
      v.push_back({intl + " ext. 12", other, tag + "international ext. 12"});
      v.push_back({"00" + intl.substr(1), cc == "7" || cc == "61" || cc == "81" || cc == "1" ? "44" : cc, tag + "00"});
      v.push_back({std::string(reg.idd) + " " + intl.substr(1), cc, tag + "own IDD (to itself)"});
      v.push_back({"011 " + intl.substr(1), "1", tag + "from the US"});
      v.push_back({nsn, cc, tag + "national significant number"});
      v.push_back({intl.substr(1), cc, tag + "code without +"});
      v.push_back({"tel:" + e164, other, tag + "tel:"});
      std::string dotted = national;
      std::replace(dotted.begin(), dotted.end(), ' ', '.');
      v.push_back({dotted, cc, tag + "national, dots"});
    }
  }
  return v;
}

// ---- the SQL side: one round trip ---------------------------------------------

struct SqlKeys {
  std::vector<Key> email, phone, name, digits;
};

std::vector<Key> keys_of(const json& array) {
  std::vector<Key> out;
  for (const auto& k : array) out.push_back(k.is_null() ? Key{} : Key{k.get<std::string>()});
  return out;
}

SqlKeys sql_keys(const std::string& url, const std::vector<std::string>& emails,
                 const std::vector<PhoneInput>& phones, const std::vector<std::string>& names) {
  json phone_args = json::array();
  json digit_args = json::array();
  for (const auto& p : phones) {
    phone_args.push_back(json::array({p.raw, p.calling_code}));
    digit_args.push_back(p.raw);
  }
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  const auto r = tx.exec_params(R"SQL(
SELECT (SELECT coalesce(json_agg(normalize_email(v) ORDER BY i), '[]')
          FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t (v, i)),
       (SELECT coalesce(json_agg(normalize_phone(v->>0, v->>1) ORDER BY i), '[]')
          FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t (v, i)),
       (SELECT coalesce(json_agg(normalize_name(v) ORDER BY i), '[]')
          FROM jsonb_array_elements_text($3::jsonb) WITH ORDINALITY AS t (v, i)),
       (SELECT coalesce(json_agg(phone_digits(v) ORDER BY i), '[]')
          FROM jsonb_array_elements_text($4::jsonb) WITH ORDINALITY AS t (v, i))
)SQL",
                                json(emails).dump(), phone_args.dump(), json(names).dump(), digit_args.dump());
  return {keys_of(json::parse(r[0][0].as<std::string>())), keys_of(json::parse(r[0][1].as<std::string>())),
          keys_of(json::parse(r[0][2].as<std::string>())), keys_of(json::parse(r[0][3].as<std::string>()))};
}

std::string region_of(const std::string& calling_code) {
  return calling_code.empty() ? "ZZ" : region_for_calling_code(calling_code);
}

class NormalizerParityTest : public tradesphere::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    emails_ = email_corpus();
    phones_ = phone_corpus();
    names_ = name_corpus();
    sql_ = sql_keys(owner_url(), emails_, phones_, names_);
    ASSERT_EQ(sql_.email.size(), emails_.size());
    ASSERT_EQ(sql_.phone.size(), phones_.size());
    ASSERT_EQ(sql_.name.size(), names_.size());
    ASSERT_EQ(sql_.digits.size(), phones_.size());
  }

  std::vector<std::string> emails_, names_;
  std::vector<PhoneInput> phones_;
  SqlKeys sql_;
};

TEST_F(NormalizerParityTest, TheCorpusIsLargeAndTouchesEveryEdge) {
  EXPECT_GE(emails_.size(), 300U);
  EXPECT_GE(phones_.size(), 400U);
  EXPECT_GE(names_.size(), 300U);
  std::size_t email_keys = 0, phone_keys = 0, name_keys = 0;
  for (const auto& k : sql_.email) email_keys += k.has_value();
  for (const auto& k : sql_.phone) phone_keys += k.has_value();
  for (const auto& k : sql_.name) name_keys += k.has_value();
  // both keys and NULLs on every side, so the comparisons below compare something
  EXPECT_GT(email_keys, 100U);
  EXPECT_GT(emails_.size() - email_keys, 50U);
  EXPECT_GT(phone_keys, 200U);
  EXPECT_GT(phones_.size() - phone_keys, 20U);
  EXPECT_GT(name_keys, 250U);
}

TEST_F(NormalizerParityTest, NameKeysAreEqualForEveryInput) {
  std::size_t differing = 0;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const Key cpp = name_key(names_[i]);
    if (cpp != sql_.name[i]) {
      ++differing;
      ADD_FAILURE() << "name " << show(names_[i]) << ": C++ " << show(cpp) << ", SQL " << show(sql_.name[i]);
    }
  }
  EXPECT_EQ(differing, 0U) << "of " << names_.size();
}

TEST_F(NormalizerParityTest, PhoneDigitsAreEqualForEveryInput) {
  for (std::size_t i = 0; i < phones_.size(); ++i) {
    EXPECT_EQ(Key{phone_digits(phones_[i].raw)}, sql_.digits[i]) << "phone_digits " << show(phones_[i].raw);
  }
}

TEST_F(NormalizerParityTest, EveryEmailCppAcceptsHasTheSameSqlKey) {
  std::size_t sql_only = 0, both = 0;
  for (std::size_t i = 0; i < emails_.size(); ++i) {
    const Key cpp = normalize_email(emails_[i]);
    const Key& sql = sql_.email[i];
    if (cpp && sql) ++both;
    if (!cpp && sql) {
      ++sql_only;  // allowed: C++ validates what the API stores, SQL keys any local@domain.tld
      std::cout << "  email SQL-only key (allowed) " << show(emails_[i]) << " -> " << show(sql) << "\n";
    }
    if (cpp) {
      EXPECT_EQ(cpp, sql) << "email " << show(emails_[i]) << ": C++ " << show(cpp) << ", SQL " << show(sql);
    }
  }
  std::cout << "emails: " << emails_.size() << " inputs, " << both << " keyed by both, " << sql_only
            << " by SQL only\n";
  EXPECT_GT(both, 60U);
}

std::size_t letters_after_first_digit(const std::string& raw) {
  const auto first = raw.find_first_of("0123456789");
  if (first == std::string::npos) return 0;
  return static_cast<std::size_t>(std::count_if(raw.begin() + static_cast<std::ptrdiff_t>(first), raw.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }));
}

TEST_F(NormalizerParityTest, PhoneKeysAreEqualWheneverBothExist) {
  std::size_t both = 0, sql_only = 0, cpp_only = 0, differing = 0;
  for (std::size_t i = 0; i < phones_.size(); ++i) {
    const auto& p = phones_[i];
    const Key cpp = normalize_phone(p.raw, region_of(p.calling_code));
    const Key& sql = sql_.phone[i];
    const std::string where = "phone " + show(p.raw) + " code '" + p.calling_code + "' (" + p.why + ")";
    if (cpp && sql) {
      ++both;
      if (*cpp != *sql) {
        ++differing;
        ADD_FAILURE() << where << ": C++ " << show(cpp) << ", SQL " << show(sql);
      }
    } else if (sql) {
      ++sql_only;  // allowed: no numbering plans in SQL
    } else if (cpp) {
      ++cpp_only;
      if (letters_after_first_digit(p.raw) >= 3) {
        // allowed: a vanity number ("1-800-FLOWERS"). libphonenumber dials three or
        // more letters as keypad digits; SQL reads letters after the digits as a
        // note or an extension ("(home)", "ext 12") and cuts there.
        std::cout << "  phone C++-only key (allowed, vanity) " << show(p.raw) << " -> " << show(cpp) << "\n";
      } else {
        ADD_FAILURE() << where << ": C++ " << show(cpp) << ", SQL NULL";
      }
    }
  }
  std::cout << "phones: " << phones_.size() << " inputs, " << both << " keyed by both (" << differing
            << " differently), " << sql_only << " by SQL only, " << cpp_only << " by C++ only\n";
}

// Migration 0030 changed what normalize_phone and normalize_name return: the keys
// of customers that exist when it runs are recomputed (and back by its down).
class NormalizerParityMigrationTest : public tradesphere::testing::EmptyPgTest {
 protected:
  std::string keys() {
    pqxx::connection c(owner_url());
    pqxx::nontransaction tx(c);
    std::string out;
    for (const auto& row : tx.exec("SELECT cu.external_id || ':' || k.key_type || '=' || k.key_value "
                                   "FROM customer_matching_keys k JOIN customers cu ON cu.id = k.customer_id "
                                   "WHERE k.key_type <> 'email' ORDER BY 1")) {
      out += row[0].as<std::string>() + "\n";
    }
    return out;
  }
};

TEST_F(NormalizerParityMigrationTest, RecomputesThePhoneAndNameKeysOfExistingCustomers) {
  tradesphere::db::MigrationRunner runner(owner_url());
  runner.up(29);
  {
    pqxx::connection c(owner_url());
    pqxx::work w(c);
    w.exec("INSERT INTO companies (id, slug, name, default_country_code) VALUES "
           "('aaaaaaaa-0000-4000-8000-000000000007', 'ru', 'RU', '7')");
    w.exec("INSERT INTO customers (company_id, external_id, name, phone, status) VALUES "
           "('aaaaaaaa-0000-4000-8000-000000000007', 'a', 'Jose\u0301 Nguy\u1ec5n', '8 (916) 123-45-67', 'active'), "
           "('aaaaaaaa-0000-4000-8000-000000000007', 'b', 'Plain Ascii', '+7 916 765 43 21', 'active'), "
           "('aaaaaaaa-0000-4000-8000-000000000007', 'c', 'Фёдор', '7 916 000 11 22', 'active')");
    w.exec("UPDATE customers SET status = 'deleted' WHERE external_id = 'c'");
    w.exec("INSERT INTO customers (company_id, external_id, name, phone) VALUES "
           "('aaaaaaaa-0000-4000-8000-000000000007', 'd', 'Фёдор', '7 916 000 11 22')");
    w.commit();
  }
  const std::string before =
      "a:name=jose\u0301 nguy\u1ec5n\na:phone=+789161234567\nb:name=ascii plain\nb:phone=+79167654321\n"
      "d:name=\u0444\u0451\u0434\u043e\u0440\nd:phone=+779160001122\n";
  EXPECT_EQ(keys(), before);
  runner.up(30);
  EXPECT_EQ(keys(),
            "a:name=jose nguyen\na:phone=+79161234567\nb:name=ascii plain\nb:phone=+79167654321\n"
            "d:name=\u0444\u0435\u0434\u043e\u0440\nd:phone=+79160001122\n")
      << "the deleted customer c still has no keys";
  runner.down(29);
  EXPECT_EQ(keys(), before);
}

}  // namespace
