#include "domain/csv_writer.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "domain/csv.hpp"

namespace tradesphere::domain {
namespace {

std::string field(std::string_view v) {
  std::string out;
  append_csv_field(out, v);
  return out;
}

std::string record(const std::vector<std::optional<std::string>>& fields) {
  std::string out;
  append_csv_record(out, fields);
  return out;
}

TEST(CsvWriter, PlainFieldsAreWrittenAsIs) {
  EXPECT_EQ(field("Ann Lee"), "Ann Lee");
  EXPECT_EQ(field("ann@example.com"), "ann@example.com");
  EXPECT_EQ(field("it's 5 o'clock"), "it's 5 o'clock");
  EXPECT_EQ(field("a;b"), "a;b");
}

TEST(CsvWriter, QuotesFieldsWithCommaQuoteCrOrLfAndDoublesQuotes) {
  EXPECT_EQ(field("Lee, Ann"), "\"Lee, Ann\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(field("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(field("cr\ronly"), "\"cr\ronly\"");
  EXPECT_EQ(field("\""), "\"\"\"\"");
}

// What import does with an exported file: the guard comes off, nothing else changes.
TEST(CsvWriter, UnguardRemovesExactlyTheGuardsApostrophe) {
  for (const std::string v : {"=1+1", "@cmd", "+SUM(A1)", "-2+A1", "\tTAB", "plain", "+1 415 555 0100", "'quoted'", "", "'"}) {
    std::string out;
    append_csv_field(out, v);
    const std::string written = !out.empty() && out.front() == '"' ? out.substr(1, out.size() - 2) : out;
    EXPECT_EQ(std::string(csv_unguard(written)), v) << v;
  }
  EXPECT_EQ(csv_unguard("'abc"), "'abc") << "an apostrophe before text is kept";
  EXPECT_EQ(csv_unguard("''=1"), "''=1") << "only one guard, only when a formula follows";
}

TEST(CsvWriter, FormulaLikeCellsGetALeadingApostrophe) {
  for (const char* v : {"=1+1", "+1+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "+HYPERLINK(\"x\")", "-", "+", "@SUM(A1)",
                        "\tx", "\rx"}) {
    EXPECT_TRUE(csv_formula_like(v)) << v;
  }
  // a signed number or phone calls nothing: written as it is
  for (const char* v : {"+1 415 555 0100", "+44 (0)20 7946 0958", "-12.5", "+61-8-8554-2291", "-2"}) {
    EXPECT_FALSE(csv_formula_like(v)) << v;
  }
  EXPECT_EQ(field("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
  EXPECT_EQ(field("=1+1"), "'=1+1");
  EXPECT_EQ(field("+1 415 555 0100"), "+1 415 555 0100");
  EXPECT_EQ(field("-5"), "-5");
  EXPECT_EQ(field("-5+A1"), "'-5+A1");
  EXPECT_EQ(field("@cmd"), "'@cmd");
  EXPECT_EQ(field("\tTAB"), "'\tTAB");
  EXPECT_EQ(field("\rCR"), "\"'\rCR\"") << "a CR also needs quotes; the apostrophe goes inside them";
  EXPECT_EQ(field("=a,b"), "\"'=a,b\"");
  // Only the first character counts.
  EXPECT_FALSE(csv_formula_like("a=b"));
  EXPECT_FALSE(csv_formula_like(" =1"));
  EXPECT_FALSE(csv_formula_like(""));
  EXPECT_EQ(field("a=b-c+d@e"), "a=b-c+d@e");
}

TEST(CsvWriter, EmptyAndNullFieldsAreEmpty) {
  EXPECT_EQ(field(""), "");
  EXPECT_EQ(record({std::nullopt, std::string(), "x", std::nullopt}), ",,x,\r\n");
  EXPECT_EQ(record({std::nullopt}), "\r\n");
  EXPECT_EQ(record({}), "\r\n");
}

TEST(CsvWriter, NonAsciiIsWrittenByteForByte) {
  EXPECT_EQ(field("José Müller"), "José Müller");
  EXPECT_EQ(field("東京, 日本"), "\"東京, 日本\"");
  EXPECT_EQ(field("😀"), "😀");
}

TEST(CsvWriter, RecordsEndWithCrlfAndReadBackThroughTheReader) {
  const std::vector<std::optional<std::string>> fields = {
      "id-1", std::nullopt, "Lee, \"Ann\"", "line1\r\nline2", "José", "=cmd", ""};
  const std::string text = record({"a", "b", "c", "d", "e", "f", "g"}) + record(fields);
  EXPECT_EQ(text.substr(0, 15), "a,b,c,d,e,f,g\r\n");
  std::istringstream in(text);
  CsvReader reader(in);
  CsvRecord r;
  ASSERT_TRUE(reader.next(r));
  ASSERT_TRUE(reader.next(r));
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.fields, (std::vector<std::string>{"id-1", "", "Lee, \"Ann\"", "line1\r\nline2", "José", "'=cmd", ""}));
  EXPECT_FALSE(reader.next(r));
}

}  // namespace
}  // namespace tradesphere::domain
