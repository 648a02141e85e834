#include "domain/normalize.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "domain/errors.hpp"

namespace tradesphere::domain {
namespace {

// Runs fn, which must throw ValidationError, and returns the offending field names.
template <typename Fn>
std::vector<std::string> validation_fields(Fn&& fn) {
  try {
    fn();
  } catch (const ValidationError& e) {
    std::vector<std::string> fields;
    for (const auto& f : e.fields()) fields.push_back(f.field);
    return fields;
  }
  ADD_FAILURE() << "expected ValidationError";
  return {};
}

// ---- trim ----

TEST(Trim, RemovesAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(trim("  \t a b \r\n"), "a b");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \n "), "");
  EXPECT_EQ(trim("x"), "x");
}

// ---- email ----

TEST(EmailNormalizer, TrimsAndLowercases) {
  EXPECT_EQ(normalize_email("  John.Doe@Example.COM \n"), "john.doe@example.com");
}

TEST(EmailNormalizer, TrimsTheUnicodeSpacesSqlTrims) {
  // the set of docs/database.md: SQL normalize_email keys these, so C++ accepts them too
  EXPECT_EQ(normalize_email("\u00a0John@Example.com\u3000"), "john@example.com");
  EXPECT_EQ(normalize_email("\ufeff\u200bjohn@example.com\u2028\u2029\u0085"), "john@example.com");
  EXPECT_EQ(normalize_email("\u1680\u2000\u200a\u202f\u205fjohn@example.com"), "john@example.com");
  EXPECT_EQ(normalize_email("\u00a0"), std::nullopt);
  EXPECT_EQ(normalize_email("john@\u00a0example.com"), std::nullopt) << "inside, a space is still invalid";
  EXPECT_EQ(normalize_email("\u2060john@example.com"), std::nullopt) << "U+2060 is not in the set";
}

TEST(UnicodeTrim, RemovesOnlyTheListedSpacesAtBothEnds) {
  EXPECT_EQ(trim_unicode_spaces("\u00a0 a\u00a0b \u3000"), "a\u00a0b");
  EXPECT_EQ(trim_unicode_spaces("\u3000\u3000"), "");
  EXPECT_EQ(trim_unicode_spaces(""), "");
  EXPECT_EQ(trim_unicode_spaces("\u00e9"), "\u00e9");
  EXPECT_EQ(trim_unicode_spaces("\u00e9\u00a0"), "\u00e9");
}

TEST(EmailNormalizer, ReturnsNulloptForImplausibleAddresses) {
  EXPECT_EQ(normalize_email(""), std::nullopt);
  EXPECT_EQ(normalize_email("   "), std::nullopt);
  EXPECT_EQ(normalize_email("john"), std::nullopt);
  EXPECT_EQ(normalize_email("john@"), std::nullopt);
  EXPECT_EQ(normalize_email("@example.com"), std::nullopt);
  EXPECT_EQ(normalize_email("john@localhost"), std::nullopt);
  EXPECT_EQ(normalize_email("john doe@example.com"), std::nullopt);
}

TEST(EmailValidator, AcceptsCommonForms) {
  EXPECT_TRUE(is_valid_email("a@b.co"));
  EXPECT_TRUE(is_valid_email("first.last+tag@sub.example.org"));
  EXPECT_TRUE(is_valid_email("o'brien@example.ie"));
  EXPECT_TRUE(is_valid_email("x_y-z@my-domain.com"));
  EXPECT_TRUE(is_valid_email("user@xn--bcher-kva.example"));
  EXPECT_TRUE(is_valid_email("user@example.xn--p1ai"));
}

TEST(EmailValidator, RejectsMalformedAddresses) {
  EXPECT_FALSE(is_valid_email("a@@b.com"));
  EXPECT_FALSE(is_valid_email("a@b@c.com"));
  EXPECT_FALSE(is_valid_email(".a@b.com"));
  EXPECT_FALSE(is_valid_email("a.@b.com"));
  EXPECT_FALSE(is_valid_email("a..b@c.com"));
  EXPECT_FALSE(is_valid_email("a@-b.com"));
  EXPECT_FALSE(is_valid_email("a@b-.com"));
  EXPECT_FALSE(is_valid_email("a@b..com"));
  EXPECT_FALSE(is_valid_email("a@b.c"));
  EXPECT_FALSE(is_valid_email("a@b.c0m"));
  EXPECT_FALSE(is_valid_email("a@b.com."));
  EXPECT_FALSE(is_valid_email(" a@b.com"));
  EXPECT_FALSE(is_valid_email("a(b)@c.com"));
  EXPECT_FALSE(is_valid_email("jörg@example.de"));
}

TEST(EmailValidator, EnforcesLengthLimits) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(is_valid_email(local64 + "@example.com"));
  EXPECT_FALSE(is_valid_email(local64 + "a@example.com"));
  const std::string label63(63, 'b');
  EXPECT_TRUE(is_valid_email("a@" + label63 + ".com"));
  EXPECT_FALSE(is_valid_email("a@" + label63 + "b.com"));
  // 254 total is the maximum.
  std::string domain;
  while (domain.size() < 250) domain += std::string(50, 'c') + ".";
  domain = domain.substr(0, 245) + ".com";  // 249 chars
  ASSERT_EQ(domain.size(), 249u);
  EXPECT_TRUE(is_valid_email("abcd@" + domain));    // 254
  EXPECT_FALSE(is_valid_email("abcde@" + domain));  // 255
}

// ---- phone ----

TEST(PhoneNormalizer, FormatsUsNumbersAsE164) {
  EXPECT_EQ(normalize_phone("(415) 555-2671", "US"), "+14155552671");
  EXPECT_EQ(normalize_phone("415.555.2671", "US"), "+14155552671");
  EXPECT_EQ(normalize_phone("+1 415 555 2671", "US"), "+14155552671");
  EXPECT_EQ(normalize_phone("1-415-555-2671", "US"), "+14155552671");
}

TEST(PhoneNormalizer, UsesDefaultRegionForNationalNumbers) {
  EXPECT_EQ(normalize_phone("030 901820", "DE"), "+4930901820");
  EXPECT_EQ(normalize_phone("020 7946 0958", "gb"), "+442079460958");
  // The same digits mean another number in another region.
  EXPECT_NE(normalize_phone("020 7946 0958", "GB"), normalize_phone("020 7946 0958", "DE"));
}

TEST(PhoneNormalizer, InternationalNumbersIgnoreDefaultRegion) {
  EXPECT_EQ(normalize_phone("+44 20 7946 0958", "US"), "+442079460958");
  EXPECT_EQ(normalize_phone("+44 20 7946 0958", "NOT-A-REGION"), "+442079460958");
}

TEST(PhoneNormalizer, ReturnsNulloptForInvalidNumbers) {
  EXPECT_EQ(normalize_phone("", "US"), std::nullopt);
  EXPECT_EQ(normalize_phone("hello", "US"), std::nullopt);
  EXPECT_EQ(normalize_phone("12345", "US"), std::nullopt);
  EXPECT_EQ(normalize_phone("555-555-5555", "US"), std::nullopt);  // 555 is not an area code
  EXPECT_EQ(normalize_phone("415 555 2671", "XX"), std::nullopt);  // national number, unknown region
  EXPECT_EQ(normalize_phone(std::string(100, '1'), "US"), std::nullopt);
}

TEST(PhoneNormalizer, CallingCodeForRegion) {
  EXPECT_EQ(calling_code_for_region("US"), "1");
  EXPECT_EQ(calling_code_for_region("de"), "49");
  EXPECT_EQ(calling_code_for_region("GB"), "44");
  EXPECT_EQ(validation_fields([] { calling_code_for_region("XX"); }), std::vector<std::string>{"region"});
  EXPECT_TRUE(is_supported_region("fr"));
  EXPECT_FALSE(is_supported_region("ZZ"));
  EXPECT_FALSE(is_supported_region(""));
}

TEST(PhonePlausibility, AcceptsTypedFormsAndRejectsText) {
  EXPECT_TRUE(is_plausible_phone("(415) 555-2671"));
  EXPECT_TRUE(is_plausible_phone("+44 20 7946 0958"));
  EXPECT_TRUE(is_plausible_phone("415-555-2671 ext 12"));
  EXPECT_TRUE(is_plausible_phone("415.555.2671 x12"));
  EXPECT_FALSE(is_plausible_phone("call me"));
  EXPECT_FALSE(is_plausible_phone("1234"));                     // too few digits
  EXPECT_FALSE(is_plausible_phone("123456789012345678901"));    // 21 digits
  EXPECT_FALSE(is_plausible_phone("415+555"));                  // '+' inside
  EXPECT_FALSE(is_plausible_phone("ext 4155552671"));           // marker before the number
  EXPECT_FALSE(is_plausible_phone("415-555-2671; DROP TABLE"));
}

// ---- names ----

TEST(NameNormalizer, TrimsCollapsesAndFoldsCase) {
  EXPECT_EQ(normalize_name("  John   DOE \t"), "john doe");
  EXPECT_EQ(normalize_name("Straße"), "strasse");
  // Full case folding, not lower-casing: final sigma folds to sigma.
  EXPECT_EQ(normalize_name("Οδυσσευς"), "οδυσσευσ");
  EXPECT_EQ(normalize_name(""), "");
  EXPECT_EQ(normalize_name(" \t "), "");
}

TEST(NameNormalizer, StripsAccentsAndTransliteratesLatin) {
  EXPECT_EQ(normalize_name("José Müller"), "jose muller");
  EXPECT_EQ(normalize_name("Łukasz Żółć"), "lukasz zolc");
  EXPECT_EQ(normalize_name("Ærøskøbing"), "aeroskobing");
  EXPECT_EQ(normalize_name("ZOË"), "zoe");
}

TEST(NameNormalizer, CollapsesUnicodeWhitespace) {
  // U+00A0 no-break space and U+3000 ideographic space.
  EXPECT_EQ(normalize_name("Anna\xC2\xA0\xE3\x80\x80Lee"), "anna lee");
}

TEST(NameNormalizer, KeepsNonLatinLettersButStripsTheirMarksToo) {
  // Like ICU/Elasticsearch folding: marks go in every script (й -> и, ё -> е).
  EXPECT_EQ(normalize_name("Дмитрий"), "дмитрии");
  EXPECT_EQ(normalize_name("Фёдор"), "федор");
  EXPECT_EQ(normalize_name("山田 太郎"), "山田 太郎");
}

// The ASCII fast path must be the ICU path exactly: every ASCII character
// between letters, at the edges and doubled, and some whole names.
TEST(NameNormalizer, TheAsciiFastPathEqualsIcuForEveryAsciiCharacter) {
  for (int c = 1; c < 128; ++c) {
    const std::string ch(1, static_cast<char>(c));
    for (const std::string& s : {"Ab" + ch + "Cd", ch + "Xy", "Xy" + ch, ch + ch, " " + ch + " Q" + ch + ch + "z "}) {
      EXPECT_EQ(normalize_name(s), normalize_name_with_icu(s)) << "character " << c;
    }
  }
  for (const char* s : {"", "   ", "John  SMITH", "\tO'Brien-Smythe,\r\nJr.", "McDONALD 3rd", "a\vb\fc"}) {
    EXPECT_EQ(normalize_name(s), normalize_name_with_icu(s)) << s;
  }
  EXPECT_EQ(normalize_name("  Mary\t\tJANE  "), "mary jane");
  EXPECT_EQ(normalize_name("Zoë"), normalize_name_with_icu("Zoë")) << "non-ASCII goes through ICU";
  EXPECT_EQ(normalize_name("Zoë"), "zoe");
}

TEST(NameTokens, AreSortedForOrderInsensitiveComparison) {
  EXPECT_EQ(name_tokens("Smith, John"), name_tokens("john  smith"));
  EXPECT_EQ(name_tokens("Doe John"), (std::vector<std::string>{"doe", "john"}));
  EXPECT_NE(name_tokens("John Smith"), name_tokens("Jon Smith"));
}

TEST(NameTokens, HandleApostrophesHyphensAndPunctuation) {
  EXPECT_EQ(name_tokens("Seán O'Brien"), (std::vector<std::string>{"obrien", "sean"}));
  EXPECT_EQ(name_tokens("Sean O\xE2\x80\x99" "Brien"), name_tokens("sean obrien"));  // typographic apostrophe
  EXPECT_EQ(name_tokens("Mary-Jane Watson"), (std::vector<std::string>{"jane", "mary", "watson"}));
  EXPECT_EQ(name_tokens("Dr. J. R. R. Tolkien"), (std::vector<std::string>{"dr", "j", "r", "r", "tolkien"}));
  EXPECT_TRUE(name_tokens("  ,.- ").empty());
}

// name_key mirrors SQL normalize_name exactly (parity: tests/pg/normalizer_parity_pgtest.cpp);
// these pin the documented examples of docs/database.md.
TEST(NameKey, IsTheSqlNameKey) {
  EXPECT_EQ(name_key("  John   SMITH "), "john smith");
  EXPECT_EQ(name_key("Smith, John"), "john smith");
  EXPECT_EQ(name_key("John John"), "john");
  EXPECT_EQ(name_key("José Núñez-García"), "garcia jose nunez");
  EXPECT_EQ(name_key("O'Brien"), "obrien");
  EXPECT_EQ(name_key("O\u00b4Brien S\u00e9an"), "obrien sean") << "U+00B4 is an apostrophe, not a space";
  EXPECT_EQ(name_key("Straße"), "strasse");
  EXPECT_EQ(name_key("Д. Иванов"), "д иванов");
  EXPECT_EQ(name_key("   "), std::nullopt);
  EXPECT_EQ(name_key(",.-"), std::nullopt);
}

TEST(NameKey, FoldsDecomposedAccentsFullWidthAndLettersOutsideTheOldTable) {
  EXPECT_EQ(name_key("Jose\u0301"), "jose");
  EXPECT_EQ(name_key("Nguyễn Văn An"), "an nguyen van");
  EXPECT_EQ(name_key("ＪＯＨＮ"), "john");
  EXPECT_EQ(name_key("İstanbul"), "istanbul");
  EXPECT_EQ(name_key("Łukasz Żółć"), "lukasz zolc");
  EXPECT_EQ(name_key("Ærøskøbing Đorđe"), "aeroskobing dorde");
  EXPECT_EQ(name_key("Фёдор Дмитрий"), "дмитрии федор") << "Cyrillic marks go too, as in name_tokens";
  EXPECT_EQ(name_key("김민준 がくせい"), "がくせい 김민준") << "Hangul and kana are recomposed";
}

TEST(NameKey, SortsDistinctTokensBytewise) {
  EXPECT_EQ(name_key("b a B A é"), "a b e");
  EXPECT_EQ(name_key("zed Zed 山田 émile"), "emile zed 山田");
}

TEST(PhoneDigits, KeepsAsciiDigitsOnly) {
  EXPECT_EQ(phone_digits("+1 (415) 555-2671 x12"), "1415555267112");
  EXPECT_EQ(phone_digits("\uff11\uff12"), "") << "full-width digits are not ASCII";
  EXPECT_EQ(phone_digits(""), "");
}

TEST(NameNormalizer, IsSafeAcrossThreads) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ok, t] {
      for (int i = 0; i < 200; ++i) {
        if (normalize_name("Łukasz  Żółć") == "lukasz zolc") ++ok[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 200);
}

// ---- tags ----

TEST(TagNormalizer, TrimsLowercasesAndDeduplicatesInFirstAppearanceOrder) {
  EXPECT_EQ(normalize_tags({" VIP ", "wholesale", "vip", "Big   Spender", "WHOLESALE"}),
            (std::vector<std::string>{"vip", "wholesale", "big spender"}));
  EXPECT_TRUE(normalize_tags({}).empty());
}

TEST(TagNormalizer, AcceptsAllowedPunctuation) {
  EXPECT_EQ(normalize_tags({"region:eu-west", "tier_1", "v2.0"}),
            (std::vector<std::string>{"region:eu-west", "tier_1", "v2.0"}));
}

TEST(TagNormalizer, RejectsBadTagsWithTheirIndex) {
  EXPECT_EQ(validation_fields([] { normalize_tags({"ok", "  ", "bad/tag", "fine", "émoji"}); }),
            (std::vector<std::string>{"tags/1", "tags/2", "tags/4"}));
}

TEST(TagNormalizer, EnforcesTagLength) {
  EXPECT_NO_THROW(normalize_tags({std::string(64, 'a')}));
  EXPECT_EQ(validation_fields([] { normalize_tags({std::string(65, 'a')}); }), std::vector<std::string>{"tags/0"});
}

TEST(TagNormalizer, EnforcesDistinctTagCount) {
  std::vector<std::string> tags;
  for (int i = 0; i < 50; ++i) tags.push_back("t" + std::to_string(i));
  tags.push_back("T0");  // a duplicate does not count
  EXPECT_EQ(normalize_tags(tags).size(), 50u);
  tags.push_back("t50");
  EXPECT_EQ(validation_fields([&] { normalize_tags(tags); }), std::vector<std::string>{"tags"});
}

TEST(TagNormalizer, UsesTheGivenFieldName) {
  EXPECT_EQ(validation_fields([] { normalize_tags({"a", "!"}, "tags_any"); }), std::vector<std::string>{"tags_any/1"});
}

// ---- timestamps ----

TEST(Iso8601, AcceptsZonedTimestamps) {
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02T03:04:05Z"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02T03:04:05.123456Z"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02T03:04Z"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02t03:04:05+05:30"));
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02T03:04:05-0800"));
  EXPECT_TRUE(is_iso8601_timestamp("2024-02-29 23:59:59.5+00"));  // PostgreSQL text output
}

TEST(Iso8601, RejectsZonelessAndImpossibleTimes) {
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T03:04:05"));  // no zone
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02"));           // date only not allowed by default
  EXPECT_FALSE(is_iso8601_timestamp("2023-02-29T00:00:00Z"));  // not a leap year
  EXPECT_FALSE(is_iso8601_timestamp("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-04-31T00:00:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T24:00:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T23:60:00Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T23:59:60Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T03:04:05.Z"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-01-02T03:04:05Z junk"));
  EXPECT_FALSE(is_iso8601_timestamp("2026-1-2T03:04:05Z"));
  EXPECT_FALSE(is_iso8601_timestamp("yesterday"));
  EXPECT_FALSE(is_iso8601_timestamp("'; DROP TABLE x; --"));
  EXPECT_FALSE(is_iso8601_timestamp(""));
}

TEST(Iso8601, DateOnlyWhenAllowed) {
  EXPECT_TRUE(is_iso8601_timestamp("2026-01-02", true));
  EXPECT_FALSE(is_iso8601_timestamp("2026-02-30", true));
}

TEST(Iso8601, ParsesToEpochMicroseconds) {
  EXPECT_EQ(parse_iso8601_micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_micros("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(parse_iso8601_micros("2000-03-01T00:00:00Z"), 951'868'800'000'000LL);
  EXPECT_EQ(parse_iso8601_micros("2000-03-01", true), 951'868'800'000'000LL);
  // The same instant in two zones.
  EXPECT_EQ(parse_iso8601_micros("2026-01-02T05:30:00+05:30"), parse_iso8601_micros("2026-01-02T00:00:00Z"));
  EXPECT_EQ(parse_iso8601_micros("2026-01-01T16:00:00-08"), parse_iso8601_micros("2026-01-02T00:00:00Z"));
  // Digits beyond microseconds are truncated.
  EXPECT_EQ(parse_iso8601_micros("1970-01-01T00:00:00.123456789Z"), 123'456);
  EXPECT_EQ(parse_iso8601_micros("1969-12-31T23:59:59Z"), -1'000'000);
}

// ---- masking ----

TEST(EmailMask, KeepsFirstCharacterAndDomain) {
  EXPECT_EQ(mask_email("john.doe@example.com"), "j***@example.com");
  EXPECT_EQ(mask_email("a@b.co"), "a***@b.co");
  EXPECT_EQ(mask_email("@b.co"), "***@b.co");
  EXPECT_EQ(mask_email("not an email"), "***");
  EXPECT_EQ(mask_email(""), "***");
}

TEST(PhoneMask, KeepsPlusFirstAndLastTwoDigits) {
  EXPECT_EQ(mask_phone("+14155552671"), "+1*******71");
  EXPECT_EQ(mask_phone("(415) 555-2671"), "4*******71");
  EXPECT_EQ(mask_phone("+442079460958"), "+4*******58");  // length not revealed
  EXPECT_EQ(mask_phone("12345"), "***");
  EXPECT_EQ(mask_phone(""), "***");
}

TEST(Uuid, RecognizesCanonicalForm) {
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(is_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
  EXPECT_FALSE(is_uuid(""));
}

}  // namespace
}  // namespace tradesphere::domain
