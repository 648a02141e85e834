#include <gtest/gtest.h>

#include <sstream>

#include "domain/csv.hpp"

namespace {
using tradesphere::domain::CsvReader;
using tradesphere::domain::CsvRecord;

std::vector<CsvRecord> read_all(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(in);
  std::vector<CsvRecord> out;
  CsvRecord r;
  while (reader.next(r)) out.push_back(r);
  return out;
}

TEST(Csv, ReadsQuotedFieldsWithEscapesSeparatorsAndLineBreaks) {
  auto rows = read_all("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nlast,,\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "two\r\nlines"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].line, 4u) << "the quoted line break counts";
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"last", "", ""}));
}

TEST(Csv, SkipsBomAndBlankLinesAndAcceptsMissingFinalNewline) {
  auto rows = read_all("\xEF\xBB\xBFname\n\nAnn");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields[0], "name");
  EXPECT_EQ(rows[1].fields[0], "Ann");
  EXPECT_EQ(rows[1].line, 3u);
}

TEST(Csv, ReportsMalformedRecordsAndResynchronizes) {
  auto rows = read_all("a,b\nx\"y,z\n\"ok\"junk,1\ngood,2\n\"open,3\n");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_NE(rows[1].error.find("quote inside an unquoted field"), std::string::npos);
  EXPECT_NE(rows[2].error.find("text after a closing quote"), std::string::npos);
  EXPECT_TRUE(rows[3].error.empty());
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"good", "2"}));
  EXPECT_EQ(rows[4].error, "unterminated quoted field");
}

}  // namespace
