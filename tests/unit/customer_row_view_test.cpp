// The tags column as array_to_json writes it (domain/customer_row_view.hpp): read without a
// JSON parser when it holds no escape, with one otherwise; same strings either way.
#include "domain/customer_row_view.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace {

using tradesphere::domain::tags_from_json;
using tradesphere::domain::tags_json_is_plain;

std::vector<std::string> parsed(const std::string& text) {
  return nlohmann::json::parse(text).get<std::vector<std::string>>();
}

TEST(CustomerRowView, TagsReadLikeTheJsonParserReadsThem) {
  for (const std::string text : {R"([])", R"([""])", R"(["vip"])", R"(["vip","b2b"])", R"(["a","","c"])",
                                 R"(["ünïcödé","東京 😀"])", R"(["with space","a,b","[x]"])", R"(["quo\"te"])",
                                 R"(["back\\slash","tab\t"])", R"(["\u0001ctl"])", R"(["a","b\"c","d"])"}) {
    EXPECT_EQ(tags_from_json(text), parsed(text)) << text;
  }
}

TEST(CustomerRowView, OnlyEscapeFreeArraysOfStringsArePlain) {
  EXPECT_TRUE(tags_json_is_plain("[]"));
  EXPECT_TRUE(tags_json_is_plain(R"(["a"])"));
  EXPECT_TRUE(tags_json_is_plain(R"(["a","",",","]"])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a\"b"])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a\\"])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a",null])"));
  EXPECT_FALSE(tags_json_is_plain(R"([null])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a",])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a" ,"b"])"));
  EXPECT_FALSE(tags_json_is_plain(R"(["a")"));
  EXPECT_FALSE(tags_json_is_plain(R"(["])"));
  EXPECT_FALSE(tags_json_is_plain(""));
  EXPECT_FALSE(tags_json_is_plain("[1]"));
  EXPECT_THROW(tags_from_json(R"(["a",null])"), std::exception);
  EXPECT_THROW(tags_from_json("not json"), std::exception);
}

}  // namespace
